import type { Duplex } from 'node:stream';
import { MAX_ENVELOPE_BYTES } from '../../shared/envelope.js';

/**
 * The largest MQTT packet a client may send the embedded broker, by default: the ingest limit on
 * a message (64 KiB) plus room for the topic and the MQTT headers, so every message ingest would
 * take fits and nothing much larger is ever buffered. Mosquitto's `max_packet_size` takes the
 * same figure (docs/mosquitto.md).
 */
export const DEFAULT_MAX_PACKET_BYTES = MAX_ENVELOPE_BYTES + 1024;

/**
 * Watches the MQTT fixed headers of what a client sends, as the bytes arrive, and calls
 * `oversized` (once) as soon as a header announces a packet larger than `maxBytes`, before its
 * body is read: the caller closes the connection, so the broker's parser (mqtt-packet, which
 * buffers a whole packet before parsing it) never holds more than one socket read of it.
 *
 * It listens for 'data', which a stream read through 'readable' (as aedes reads) emits for every
 * chunk it returns, just before aedes hands that chunk to its parser; attach it after aedes has
 * attached its 'readable' listener, so the stream stays in paused mode.
 */
export function limitPacketSize(
  conn: Duplex,
  maxBytes: number,
  oversized: (announcedBytes: number) => void,
): void {
  // Where we are in the current packet: its first byte, its remaining length, or its body.
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let bodyLeft = 0;
  let tripped = false;

  const onData = (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length && !tripped) {
      if (state === 'body') {
        const take = Math.min(bodyLeft, chunk.length - i);
        bodyLeft -= take;
        i += take;
        if (bodyLeft === 0) state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (state === 'type') {
        state = 'length';
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes += 1;
      // A fifth length byte is malformed: the parser refuses it and closes the connection itself.
      if (byte & 0x80 && lengthBytes < 4) continue;
      const total = 1 + lengthBytes + length;
      if (total > maxBytes) {
        tripped = true;
        conn.off('data', onData);
        oversized(total);
        return;
      }
      bodyLeft = length;
      state = bodyLeft === 0 ? 'type' : 'body';
    }
  };
  conn.on('data', onData);
}
