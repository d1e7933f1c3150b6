import { setupFor } from "../../../test/servers/project-setup.js";

// A throwaway PostgreSQL cluster for the server engine (the embedded engine needs no server), and
// OpenBao for `keyway copy` between the store and Vault.
export default setupFor("postgres", "openbao");
