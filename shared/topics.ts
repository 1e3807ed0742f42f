/** MQTT topics of SPEC §5. One place builds and parses them. */
export const TOPIC_ROOT = 'smew/v1/agents';
export const AGENT_CHANNELS = ['events', 'heartbeat', 'status', 'policy', 'ack'] as const;
export type AgentChannel = (typeof AGENT_CHANNELS)[number];

export function agentTopic(agentId: string, channel: AgentChannel): string {
  return `${TOPIC_ROOT}/${agentId}/${channel}`;
}

/** Wildcard for one channel of every agent, e.g. `smew/v1/agents/+/events`. */
export function allAgentsTopic(channel: AgentChannel): string {
  return `${TOPIC_ROOT}/+/${channel}`;
}

export function parseAgentTopic(topic: string): { agentId: string; channel: AgentChannel } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}/${parts[2]}` !== TOPIC_ROOT) return undefined;
  const channel = parts[4] as AgentChannel;
  if (!AGENT_CHANNELS.includes(channel)) return undefined;
  return { agentId: parts[3]!, channel };
}

/**
 * NATS's MQTT gateway carries the topic `a/b/c` as the subject `a.b.c` (smew's topics hold no `.`
 * and no space, so the mapping is one-to-one), and the wildcards `+`/`#` as `*`/`>`.
 */
export function natsSubjectOfTopic(topic: string): string {
  return topic
    .split('/')
    .map((level) => (level === '+' ? '*' : level === '#' ? '>' : level))
    .join('.');
}

export function topicOfNatsSubject(subject: string): string {
  return subject.split('.').join('/');
}
