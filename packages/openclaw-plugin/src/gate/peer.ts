/**
 * Peer and sender identity per channel. Phone numbers become E.164 (`+` and digits) so "+1 (555) 010-0000"
 * and "15550100000" on WhatsApp are one chat; everything else — group and user JIDs (`…@g.us`,
 * `…@s.whatsapp.net`), Telegram/Discord/Slack ids, webchat session keys — is kept exactly as given (only
 * trimmed), so a group can never collapse into the phone number hidden in its JID (the seed's bug).
 */

/** Channels whose bare digit strings are phone numbers; elsewhere digits are ids (Discord snowflakes, Telegram chats). */
const PHONE_CHANNELS = new Set(["whatsapp", "signal", "sms", "imessage", "bluebubbles"]);

const PHONE_SHAPE = /^[\d\s().\-/]+$/;

export function normalizeChannel(channel: string): string {
  return channel.trim().toLowerCase();
}

export function normalizePeer(channel: string, raw: string): string {
  let v = raw.trim();
  const prefix = `${channel}:`;
  if (v.toLowerCase().startsWith(prefix)) v = v.slice(prefix.length).trim();
  if (v === "" || v.includes("@")) return v;
  const explicit = v.startsWith("+") && PHONE_SHAPE.test(v.slice(1));
  const bare = PHONE_CHANNELS.has(channel) && PHONE_SHAPE.test(v);
  if (!explicit && !bare) return v;
  const digits = v.replace(/\D+/g, "");
  return digits.length >= 3 ? `+${digits}` : v;
}
