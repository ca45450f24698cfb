// Public surface of @clawtower/hub: the HTTP app and a server runner.
export { createHubApp, type HubAppOptions } from "./app.ts";
export { startHub, HubConfigError, type HubServerOptions, type RunningHub } from "./server.ts";
export { createChangeFeed, type ChangeFeed, type Change } from "./live.ts";
export { isLoopbackHost, type AuthConfig } from "./auth.ts";
export { HubError } from "./errors.ts";
