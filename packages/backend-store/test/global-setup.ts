import { setupFor } from "../../../test/servers/project-setup.js";

// A throwaway PostgreSQL cluster for the server engine; the embedded engine needs no server.
export default setupFor("postgres");
