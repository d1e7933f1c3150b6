import { setupFor } from "@keyway/test-servers/project-setup";

export default setupFor("openbao");
