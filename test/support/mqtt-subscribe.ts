import type { IClientSubscribeOptions, ISubscriptionGrant, ISubscriptionMap, MqttClient } from 'mqtt';

/** Whether the client is connected now or connects within `ms`. */
function connectedWithin(client: MqttClient, ms: number): Promise<boolean> {
  if (client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onConnect = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('connect', onConnect);
      resolve(false);
    }, ms);
    client.once('connect', onConnect);
  });
}

/**
 * Subscribes and waits for the SUBACK, for a client whose connection may drop right then (a broker
 * just restarted, a reconnect in progress). mqtt.js fails a SUBSCRIBE still unanswered when the
 * connection closes ("Connection closed"); this waits for the next 'connect' and subscribes again,
 * until `timeoutMs` has passed. A topic the broker refuses (granted QoS 128) is an error at once.
 *
 * Every attempt sends a SUBSCRIBE of its own (`resubscribe: true`): without it mqtt.js answers a
 * second call for topics it already tracks with an empty grant and no SUBACK at all.
 */
export async function subscribeUntilAcked(
  client: MqttClient,
  topics: string[],
  options: IClientSubscribeOptions = { qos: 1 },
  timeoutMs = 10_000,
): Promise<ISubscriptionGrant[]> {
  const what = `subscribing to ${topics.join(', ')} at ${client.options.host}:${client.options.port}`;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown = 'never connected';
  while (await connectedWithin(client, deadline - Date.now())) {
    attempts += 1;
    try {
      const map: ISubscriptionMap = Object.fromEntries(topics.map((topic) => [topic, options]));
      map.resubscribe = true;
      const granted = await client.subscribeAsync(map);
      const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) throw new Error(`${what}: the broker refused ${refused.join(', ')}`);
      if (granted.length !== topics.length) {
        throw new Error(`${what}: ${granted.length} grants for ${topics.length} topics`);
      }
      return granted;
    } catch (err) {
      // Only a dropped connection is worth another try; a refusal or an ended client is final.
      if (!(err instanceof Error) || err.message !== 'Connection closed') throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) break;
  }
  throw new Error(
    `${what}: no SUBACK within ${timeoutMs} ms (${attempts} attempts; last: ${String(lastError)})`,
  );
}
