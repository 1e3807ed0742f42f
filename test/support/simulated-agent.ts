import mqtt, { type MqttClient } from 'mqtt';
import { ed25519Suite } from '../../shared/crypto/ed25519.js';
import { ackSchema, verifyMessage } from '../../shared/envelope.js';
import { agentTopic } from '../../shared/topics.js';
import { signedEvent, type TestAgent } from './collector-harness.js';

/**
 * A hand-built agent of the wire contract: publishes signed events at QoS 1, reads the collector's
 * signed acks, and resends whatever no ack covers yet — what the real agent's outbox does, so
 * an event the broker handed to a collector that then died comes around again.
 */
export class SimulatedAgent {
  acked = 0;
  private readonly events: string[] = [];
  private readonly sentAt: number[] = [];
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly agent: TestAgent,
    private readonly client: MqttClient,
    private readonly collectorKey: string,
  ) {}

  static async connect(url: string, agent: TestAgent, collectorKey: string): Promise<SimulatedAgent> {
    const client = await mqtt.connectAsync(url, {
      clientId: agent.id,
      reconnectPeriod: 200,
      protocolVersion: 4,
    });
    const sim = new SimulatedAgent(agent, client, collectorKey);
    const verify = ed25519Suite.verifier(collectorKey);
    client.on('message', (_topic, payload) => {
      const ack = ackSchema.parse(JSON.parse(payload.toString('utf8')));
      if (!verifyMessage(ack as unknown as Record<string, unknown>, verify)) throw new Error('ack signature');
      sim.acked = Math.max(sim.acked, ack.ack);
    });
    await client.subscribeAsync(agentTopic(agent.id, 'ack'), { qos: 1 });
    return sim;
  }

  async publish(seq: number): Promise<void> {
    const text = JSON.stringify(signedEvent(this.agent, seq));
    this.events[seq - 1] = text;
    this.sentAt[seq - 1] = Date.now();
    await this.client.publishAsync(agentTopic(this.agent.id, 'events'), text, { qos: 1 });
  }

  /** Like the agent's outbox: an event no ack covered within `ackTimeoutMs` of its sending goes again. */
  startResending(ackTimeoutMs: number): void {
    this.resendTimer = setInterval(() => {
      const due = Date.now() - ackTimeoutMs;
      for (let seq = this.acked + 1; seq <= this.events.length; seq++) {
        if (this.sentAt[seq - 1]! > due) continue;
        this.sentAt[seq - 1] = Date.now();
        this.client.publish(agentTopic(this.agent.id, 'events'), this.events[seq - 1]!, { qos: 1 });
      }
    }, ackTimeoutMs / 4);
  }

  async close(): Promise<void> {
    clearInterval(this.resendTimer);
    await this.client.endAsync(true);
  }
}
