/**
 * The tool names OpenClaw 2026.9.6 ships (its core tool descriptors, the tool groups of
 * docs/gateway/config-tools/tool-policy.md, and the tool-search bridge), so an allow list naming a tool the
 * host does not have — a typo, or a tool from another version — is rejected at config time. Tools of other
 * plugins and MCP servers are not known at config time and cannot be allow-listed here.
 */
export const HOST_TOOL_NAMES: ReadonlySet<string> = new Set([
  // tool-search bridge: the model's compact surface wraps the real tools
  "tool_search", "tool_describe", "tool_call", "tool_search_code",
  // group:fs, group:runtime
  "read", "write", "edit", "apply_patch", "ls", "exec", "bash", "process", "code_execution",
  // group:sessions
  "sessions", "sessions_list", "sessions_history", "sessions_search", "sessions_send", "sessions_spawn", "sessions_yield",
  "subagents", "session_status", "conversations_list", "conversations_send", "conversations_turn", "suggest_task", "dismiss_task",
  "transcripts", "agents_wait",
  // group:memory, group:web
  "memory_search", "memory_get", "web_search", "x_search", "web_fetch",
  // group:ui, group:automation, group:messaging, group:nodes
  "browser", "screen", "theme", "dashboard", "terminal", "portal", "canvas", "show_widget", "mobile_ui",
  "heartbeat_respond", "automations", "cron", "gateway", "plugins", "openclaw", "message", "nodes", "computer",
  // group:agents, group:media, others
  "agents_list", "get_goal", "create_goal", "update_goal", "progress_card", "ask_user", "skill_workshop",
  "view_image", "image_generate", "music_generate", "video_generate", "tts", "pdf",
  "secrets", "structured_output", "github_identity_status", "github_publish",
]);

/** The tools the bridge uses to reach other tools: gating them would block everything, so the inner call is gated. */
export const BRIDGE_TOOLS: ReadonlySet<string> = new Set(["tool_search", "tool_describe", "tool_call", "tool_search_code"]);

/** Router tools: the only tools that delegate, route or read session/memory state (the seed's strict set plus 2026.9.x's sessions_yield / subagents). */
export const ROUTER_TOOLS: readonly string[] = [
  "sessions_spawn", "sessions_send", "sessions_list", "sessions_history", "session_status", "sessions_yield", "subagents", "memory_search", "memory_get",
];
