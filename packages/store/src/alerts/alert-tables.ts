/**
 * The alert tables (migration 17): rules, the state of each rule's instances with their history, the notification
 * groups' memory and the outbox of notices still to deliver. Kept apart from schema.ts so alerting stays one folder.
 */
import type { Generated } from "kysely";

export type AlertRulesTable = { rule_id: string; name: string; spec: string; enabled: number; created_at: number; updated_at: number };

export type AlertInstancesTable = {
  rule_id: string;
  instance_key: string;
  labels: string;
  state: string;
  value: number;
  active_since: number;
  fired_at: number | null;
  resolved_at: number | null;
  updated_at: number;
};

export type AlertEventsTable = {
  event_id: Generated<number>;
  rule_id: string;
  instance_key: string;
  at: number;
  from_state: string | null;
  to_state: string;
  value: number;
  labels: string;
};

export type AlertGroupsTable = { rule_id: string; channel: number; first_at: number | null; last_sent_at: number | null; sent_firing: string };

export type AlertOutboxTable = {
  outbox_id: Generated<number>;
  rule_id: string;
  channel: number;
  created_at: number;
  body: string;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  dead_at: number | null;
  last_error: string | null;
};

export type AlertTables = {
  alert_rules: AlertRulesTable;
  alert_instances: AlertInstancesTable;
  alert_events: AlertEventsTable;
  alert_groups: AlertGroupsTable;
  alert_outbox: AlertOutboxTable;
};

type Dialect = "sqlite" | "postgres";

export function alertTablesSql(d: Dialect): string[] {
  const big = d === "postgres" ? "BIGINT" : "INTEGER";
  const real = d === "postgres" ? "DOUBLE PRECISION" : "REAL";
  const identity = d === "postgres" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  return [
    `CREATE TABLE alert_rules (rule_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, enabled INTEGER NOT NULL,
      created_at ${big} NOT NULL, updated_at ${big} NOT NULL)`,
    `CREATE TABLE alert_instances (rule_id TEXT NOT NULL, instance_key TEXT NOT NULL, labels TEXT NOT NULL, state TEXT NOT NULL,
      value ${real} NOT NULL, active_since ${big} NOT NULL, fired_at ${big}, resolved_at ${big}, updated_at ${big} NOT NULL,
      PRIMARY KEY (rule_id, instance_key))`,
    `CREATE INDEX alert_instances_state ON alert_instances (state, rule_id)`,
    `CREATE TABLE alert_events (event_id ${identity}, rule_id TEXT NOT NULL, instance_key TEXT NOT NULL, at ${big} NOT NULL,
      from_state TEXT, to_state TEXT NOT NULL, value ${real} NOT NULL, labels TEXT NOT NULL)`,
    `CREATE INDEX alert_events_rule ON alert_events (rule_id, at)`,
    `CREATE TABLE alert_groups (rule_id TEXT NOT NULL, channel INTEGER NOT NULL, first_at ${big}, last_sent_at ${big},
      sent_firing TEXT NOT NULL, PRIMARY KEY (rule_id, channel))`,
    `CREATE TABLE alert_outbox (outbox_id ${identity}, rule_id TEXT NOT NULL, channel INTEGER NOT NULL, created_at ${big} NOT NULL,
      body TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at ${big} NOT NULL, delivered_at ${big}, dead_at ${big}, last_error TEXT)`,
    `CREATE INDEX alert_outbox_due ON alert_outbox (delivered_at, dead_at, next_attempt_at)`,
    // The evaluator finds the sessions written since its cursor by sessions_updated (migration 16).
  ];
}
