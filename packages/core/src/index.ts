// Public surface of @clawtower/core: the transcript model, the one event parser, accounting, pricing and
// the read-only OpenClaw transcript sources.
export * from "./model/facts.ts";
export * from "./model/ledger.ts";
export * from "./model/problems.ts";
export * from "./model/ingest-line.ts";
export { extractEventFacts, isExtractFailure, scanEventFactsAt, type ExtractFailure } from "./parse/event-facts.ts";
export { JsonScanError, MAX_JSON_DEPTH, type TextEncoding } from "./parse/json-bytes.ts";
// The JSON scanner over UTF-8 bytes (the parser's; the hub's ingest lines and the plugin's privacy transforms).
export * as jsonBytes from "./parse/json-bytes.ts";
export { PartAccumulator, classifyAssistant, type AssistantClass, type EventLocation } from "./accounting/part-accumulator.ts";
export * from "./pricing/pricing.ts";
export * from "./sources/parts.ts";
export * from "./sources/home.ts";
export { HOME_ID_PATTERN, localHomeId, openclawHomeId } from "./sources/home-id.ts";
export * from "./sources/session-kind.ts";
export * from "./sources/session-ending.ts";
export { classifyTranscriptFile, listTranscriptFiles, type FileListing } from "./sources/legacy-files.ts";
export { readLegacyIndex } from "./sources/legacy-index.ts";
export { AgentDbError, coldArchiveDir, describeAgentDb, listAgentDb, openAgentDb, type AgentDbListing, type AgentDbStats, type DbSessionMeta } from "./sources/agent-db.ts";
export { DbHandles, readPart, type ReadOptions, type ReadOutcome, type ReadTask } from "./sources/read-part.ts";
export * from "./time/zone.ts";
export { ensurePrivateDir, writePrivateFileAtomic } from "./files/private-file.ts";
export * from "./reports/usage.ts";
export * from "./reports/summary-report.ts";
export * from "./reports/period-report.ts";
export * from "./reports/breakdown-reports.ts";
export * from "./reports/session-report.ts";
export * from "./reports/tool-report.ts";
export { pricesFromConfig, readConfigPrices, type ConfigPrices } from "./pricing/config-prices.ts";
export { loadBundledPrices } from "./pricing/bundled-prices.ts";
export { readPartTexts, type PartText } from "./sources/part-texts.ts";
export * from "./reports/replay.ts";
export * from "./reports/timeseries.ts";
export * from "./reports/intervals.ts";
export { readEventTexts, textOf, type EventTextBatch, type EventTextLimits, type IndexPosition, type RawEvent, type ResumePosition } from "./sources/event-texts.ts";
export { agentDbFingerprint, listHome, sessionRefKey, type AgentDbFingerprint, type HomeListing, type HomeListingOptions, type ListedDatabase, type ListedIndex, type SessionMetaOf } from "./sources/home-listing.ts";
export { latestDbSkillsSnapshot, latestLegacySkillsSnapshot, parseSkillsSnapshot, skillLocations, type SkillsSnapshot, type SnapshotSkill } from "./sources/skills-snapshot.ts";
export { planResume, type RememberedPart, type ResumeAction } from "./sources/resume-plan.ts";
