/**
 * The load generator of the ingest benchmark, in a process of its own so that publishing shares
 * neither the collector's event loop nor its CPU account (the benchmark reads the collector's CPU
 * time from its own process): one MQTT connection per simulated agent, each sending its
 * pre-signed events at QoS 1 with a bounded window, as an agent draining its outbox does.
 * Started by startPublisher with the job over IPC; says `connected`, then `published`.
 */
import mqtt from 'mqtt';

export interface PublisherAgent {
  clientId: string;
  username?: string;
  password?: string;
  topic: string;
  payloads: string[];
}

export interface PublisherJob {
  url: string;
  agents: PublisherAgent[];
  window: number;
}

async function drain(client: mqtt.MqttClient, agent: PublisherAgent, window: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < agent.payloads.length) {
      const payload = agent.payloads[next++]!;
      await client.publishAsync(agent.topic, payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

const job = await new Promise<PublisherJob>((resolve) =>
  process.once('message', (job) => resolve(job as PublisherJob)),
);
const clients = await Promise.all(
  job.agents.map((agent) =>
    mqtt.connectAsync(job.url, {
      clientId: agent.clientId,
      username: agent.username,
      password: agent.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    }),
  ),
);
process.send!({ kind: 'connected' });
await Promise.all(job.agents.map((agent, i) => drain(clients[i]!, agent, job.window)));
process.send!({ kind: 'published' });
await Promise.all(clients.map((c) => c.endAsync()));
process.disconnect();
