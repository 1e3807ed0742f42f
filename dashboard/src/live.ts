/**
 * The live stream (GET /api/v1/stream, server-sent events). EventSource reconnects by itself;
 * the page only learns that something changed and refetches through the API.
 */
export interface LiveMessage {
  type: 'event' | 'agent' | 'warning';
  unit: string;
  agent?: string;
  id?: string;
  severity?: string;
}

export function openLiveStream(handlers: {
  onMessage: (message: LiveMessage) => void;
  onState: (connected: boolean) => void;
  /** The collector ended the stream: the session is over (logged out, disabled, new password). */
  onEnded: () => void;
}): () => void {
  const source = new EventSource('/api/v1/stream');
  const forward = (e: MessageEvent<string>) => {
    try {
      handlers.onMessage(JSON.parse(e.data) as LiveMessage);
    } catch {
      // A malformed message is skipped; the next poll catches up.
    }
  };
  source.addEventListener('hello', () => handlers.onState(true));
  source.addEventListener('open', () => handlers.onState(true));
  source.addEventListener('error', () => handlers.onState(source.readyState === EventSource.OPEN));
  for (const type of ['event', 'agent', 'warning']) source.addEventListener(type, forward as EventListener);
  source.addEventListener('ended', () => {
    source.close();
    handlers.onState(false);
    handlers.onEnded();
  });
  return () => source.close();
}

/** A short two-tone beep through WebAudio: no sound file, nothing fetched. */
export function beep(): void {
  try {
    const context = new AudioContext();
    const gain = context.createGain();
    gain.gain.value = 0.15;
    gain.connect(context.destination);
    [880, 660].forEach((frequency, i) => {
      const osc = context.createOscillator();
      osc.frequency.value = frequency;
      osc.connect(gain);
      osc.start(context.currentTime + i * 0.25);
      osc.stop(context.currentTime + i * 0.25 + 0.2);
    });
    setTimeout(() => void context.close(), 1000);
  } catch {
    // No audio device: the banner still shows.
  }
}
