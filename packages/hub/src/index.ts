// Public surface of @clawtower/hub: the HTTP app and a server runner.
export { createHubApp, type HubAppOptions } from "./app.ts";
export { startHub, HubConfigError, type HubServerOptions, type RunningHub } from "./server.ts";
export { createChangeFeed, type ChangeFeed, type Change } from "./live.ts";
export { isLoopbackHost, type AuthConfig } from "./auth.ts";
export { HubError } from "./errors.ts";
export { SESSION_COOKIE, SESSION_POLICY, LOGIN_THROTTLE } from "./auth.ts";
export { DEFAULT_STREAM_LIMITS, type StreamLimits } from "./stream-limits.ts";
export { generateAdminToken, weakAdminTokenReason, HOW_TO_MAKE_A_TOKEN, MIN_ADMIN_TOKEN_GUESSES_LOG10 } from "./token-strength.ts";
export { startAlertEngine, type AlertEngine, type AlertEngineOptions } from "./alerts/engine.ts";
export { deliverDue, sendNotice, sampleNotice, signNotice, verifyNotice, SIGNATURE_HEADER, TIMESTAMP_HEADER, DEFAULT_DELIVERY, type DeliveryOptions } from "./alerts/deliver.ts";
