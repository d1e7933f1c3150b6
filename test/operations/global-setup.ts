import { setupFor } from "@keyway/test-servers/project-setup";

// Moving secrets between real backends: env → moto, moto → OpenBao.
export default setupFor("moto", "openbao");
