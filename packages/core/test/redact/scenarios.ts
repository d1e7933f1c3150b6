/** Random secrets, and texts with their forms planted in them, for the property tests. */
import fc from "fast-check";
import { derivedForms } from "../../src/redact/forms.js";

/** The forms the default policy masks: plain ones from 4 characters (whole words below 8), encoded from 8. */
export function maskedForms(values: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const value of values) {
    const { plain, encoded } = derivedForms(value);
    for (const form of plain) if (form.length >= 4) forms.add(form);
    for (const form of encoded) if (form.length >= 8) forms.add(form);
  }
  return [...forms];
}

// No `*`: a form containing the mask's character could be made up by masking its neighbours.
const secretChars = fc.constantFrom(..."abcXYZ019 _-+/=%&<>\"'\\\n{}:é€😀");
export const secret = fc.string({ unit: secretChars, maxLength: 24 });
const junk = fc.string({ unit: fc.constantFrom(...'abcxyz019 _-+/=.:\n{}"é😀'), maxLength: 12 });

/** Up to 5 distinct secrets and a text made of junk and their masked forms. */
export const secretsAndText = fc.uniqueArray(secret, { maxLength: 5 }).chain((values) => {
  const forms = maskedForms(values);
  const part = forms.length > 0 ? fc.oneof(junk, fc.constantFrom(...forms)) : junk;
  return fc.tuple(
    fc.constant(values),
    fc.array(part, { maxLength: 12 }).map((parts) => parts.join("")),
  );
});
