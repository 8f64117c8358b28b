/** Talks to the engine's HTTP API with the shared secret. Never sends the secret anywhere else. */
export interface EngineHealth {
  status: string;
  version: string;
  pid: number;
  uptimeS: number;
  lastEventId: number | null;
}

export class EngineUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`engine unreachable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "EngineUnavailableError";
  }
}

export function engineClient(baseUrl: string, secret: string, timeoutMs = 2000) {
  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${baseUrl}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${secret}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new EngineUnavailableError(err);
    }
  }
  return {
    async health(): Promise<EngineHealth> {
      const res = await call("/health");
      if (!res.ok) throw new EngineUnavailableError(new Error(`HTTP ${res.status}`));
      return (await res.json()) as EngineHealth;
    },
    async command(body: unknown): Promise<{ status: number; body: unknown }> {
      const res = await call("/command", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    },
  };
}
