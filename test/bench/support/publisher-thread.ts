/**
 * The load generator of the ingest benchmark, on its own thread so that publishing does not
 * share the collector's event loop: one MQTT connection per simulated agent, each sending its
 * pre-signed events at QoS 1 with a bounded window, as an agent draining its outbox does.
 */
import { parentPort, workerData } from 'node:worker_threads';
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

const job = workerData as PublisherJob;
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
parentPort!.postMessage({ kind: 'connected' });
await Promise.all(job.agents.map((agent, i) => drain(clients[i]!, agent, job.window)));
parentPort!.postMessage({ kind: 'published' });
await Promise.all(clients.map((c) => c.endAsync()));
