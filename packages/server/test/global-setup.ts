import { setupFor } from "../../../test/servers/project-setup.js";

export default setupFor("openbao");
