import { setupFor } from "../servers/project-setup.js";

// The fault suite runs every real server it can reach through Toxiproxy.
export default setupFor("toxiproxy", "moto", "openbao", "gcp");
