import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.pebbletemplates.pebble.PebbleEngine;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads a flow as Kestra does and renders its strings as Kestra does, for Keyway's conformance
 * tests. One long-lived process: each stdin line is a JSON request, each stdout line its answer.
 *
 *   {"id": 1, "yaml": "...", "evaluate": true}
 *   -> {"id": 1, "ok": true, "tree": [<Jackson's tree of each document>], "rendered": [<the same
 *      with each string rendered>]}
 *   -> {"id": 1, "ok": false, "error": "..."}     (the YAML does not parse)
 *
 * Parsing: a plain YAMLMapper reading JsonNode trees (Kestra's YAML reader is Jackson over SnakeYAML).
 * Rendering: Kestra's VariableRenderer set-up (strict variables, no newline trimming, no
 * autoescaping), its short-cut for strings without '{', its {% raw %} pre- and post-processing,
 * and map keys rendered like values. A string whose rendering fails becomes {"$error": "..."}.
 */
public final class KestraOracle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Pattern RAW =
      Pattern.compile("(\\{%-*\\s*raw\\s*-*%}(.*?)\\{%-*\\s*endraw\\s*-*%})");
  private static final PebbleEngine PEBBLE =
      new PebbleEngine.Builder()
          .strictVariables(true)
          .newLineTrimming(false)
          .autoEscaping(false)
          .cacheActive(false)
          .build();

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    out.println("{\"ready\":true}");
    out.flush();
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) continue;
      out.println(JSON.writeValueAsString(answer(JSON.readTree(line))));
      out.flush();
    }
  }

  private static ObjectNode answer(JsonNode request) {
    ObjectNode reply = NODES.objectNode();
    reply.set("id", request.get("id"));
    // Every document of the stream (a flow file may hold several, separated by ---).
    ArrayNode tree = NODES.arrayNode();
    try (MappingIterator<JsonNode> documents =
        YAML.readerFor(JsonNode.class).readValues(request.path("yaml").asText())) {
      while (documents.hasNextValue()) tree.add(documents.nextValue());
    } catch (Exception e) {
      reply.put("ok", false);
      reply.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      return reply;
    }
    reply.put("ok", true);
    reply.set("tree", tree);
    if (request.path("evaluate").asBoolean(false)) reply.set("rendered", renderNode(tree));
    return reply;
  }

  private static JsonNode renderNode(JsonNode node) {
    if (node == null) return NODES.nullNode();
    if (node.isTextual()) return render(node.textValue());
    if (node.isArray()) {
      ArrayNode array = NODES.arrayNode();
      node.forEach(item -> array.add(renderNode(item)));
      return array;
    }
    if (node.isObject()) {
      // Kestra renders keys too; a key whose rendering fails is reported under "$error:<key>".
      ObjectNode object = NODES.objectNode();
      for (Map.Entry<String, JsonNode> field : node.properties()) {
        JsonNode key = render(field.getKey());
        String name = key.isTextual() ? key.textValue() : "$error:" + field.getKey();
        object.set(name, renderNode(field.getValue()));
      }
      return object;
    }
    return node;
  }

  /** VariableRenderer.render(inline, variables) with recursion off (Kestra's default). */
  private static JsonNode render(String inline) {
    if (inline.indexOf('{') == -1) return NODES.textNode(inline);
    Map<String, String> replacers = new HashMap<>();
    String source =
        RAW.matcher(inline)
            .replaceAll(
                match -> {
                  String uuid = UUID.randomUUID().toString();
                  replacers.put(uuid, match.group(1));
                  return uuid;
                });
    try {
      StringWriter writer = new StringWriter();
      PEBBLE.getLiteralTemplate(source).evaluate(writer, new HashMap<>());
      String result = writer.toString();
      for (Map.Entry<String, String> entry : replacers.entrySet())
        result = result.replace(entry.getKey(), entry.getValue());
      return NODES.textNode(RAW.matcher(result).replaceAll("$2"));
    } catch (Exception e) {
      ObjectNode error = NODES.objectNode();
      error.put("$error", e.getClass().getSimpleName() + ": " + e.getMessage());
      return error;
    }
  }
}
