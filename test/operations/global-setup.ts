import { setupFor } from "../servers/project-setup.js";

// Moving secrets between real backends: env → moto, moto → OpenBao.
export default setupFor("moto", "openbao");
