import { AGENT_ID_PATTERN } from '../../shared/identity.js';
import { agentTopic, allAgentsTopic, parseAgentTopic, type AgentChannel } from '../../shared/topics.js';

/**
 * Who may publish or subscribe where (SPEC §5): an agent only under its own id, the collector
 * only where it reads agents' messages and writes acks and policies. Everything else — `$SYS`,
 * wildcards over other agents, topics outside smew — is refused.
 */
export type BrokerIdentity = { kind: 'agent'; agentId: string } | { kind: 'collector' };

const AGENT_PUBLISHES: readonly AgentChannel[] = ['events', 'heartbeat', 'status'];
const AGENT_SUBSCRIBES: readonly AgentChannel[] = ['ack', 'policy'];
const COLLECTOR_PUBLISHES: readonly AgentChannel[] = ['ack', 'policy'];
const COLLECTOR_SUBSCRIBES: readonly AgentChannel[] = ['events', 'heartbeat', 'status'];

export function mayPublish(identity: BrokerIdentity, topic: string): boolean {
  const parsed = parseAgentTopic(topic);
  if (!parsed || !AGENT_ID_PATTERN.test(parsed.agentId)) return false;
  if (identity.kind === 'collector') return COLLECTOR_PUBLISHES.includes(parsed.channel);
  return parsed.agentId === identity.agentId && AGENT_PUBLISHES.includes(parsed.channel);
}

export function maySubscribe(identity: BrokerIdentity, topicFilter: string): boolean {
  if (identity.kind === 'collector') {
    return COLLECTOR_SUBSCRIBES.some((channel) => topicFilter === allAgentsTopic(channel));
  }
  // Exact topics only: a wildcard filter could reach another agent's acks or policy.
  return AGENT_SUBSCRIBES.some((channel) => topicFilter === agentTopic(identity.agentId, channel));
}
