// (C) PostGraphile v5 (Amber preset) on Node's http server, N worker processes
// via node:cluster.  Needs Node >= 22 (PostGraphile 5 uses Promise.withResolvers).
//
// env: DATABASE_URL, PORT (default 8003), WORKERS (default 2), POOL_SIZE (per worker, default 10)
import cluster from "node:cluster";
import { createServer } from "node:http";

const PORT = Number(process.env.PORT || 8003);
const WORKERS = Number(process.env.WORKERS || 2);
const POOL_SIZE = Number(process.env.POOL_SIZE || 10);
const DATABASE_URL = process.env.DATABASE_URL || "postgresql://bench@127.0.0.1:55432/envcredit";

// Each worker binds its own SO_REUSEPORT socket (listen({exclusive, reusePort}),
// Node >= 22.12) so the kernel hashes connections over the workers -- the same
// mechanism as hub/serve.py uses for the Python servers.

if (cluster.isPrimary && WORKERS > 1) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (w, code, sig) => {
    if (!stopping) console.error(`postgraphile worker ${w.process.pid} exited (${code ?? sig})`);
  });
  const stop = () => {
    stopping = true;
    for (const id in cluster.workers) cluster.workers[id].process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  const { postgraphile } = await import("postgraphile");
  const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
  const { makePgService } = await import("postgraphile/adaptors/pg");
  const { grafserv } = await import("postgraphile/grafserv/node");

  const preset = {
    extends: [PostGraphileAmberPreset],
    pgServices: [
      makePgService({
        connectionString: DATABASE_URL,
        schemas: ["public"],
        poolConfig: { max: POOL_SIZE, idleTimeoutMillis: 0 },
      }),
    ],
    grafserv: {
      port: PORT,
      host: "127.0.0.1",
      graphiql: false,
      graphiqlOnGraphQLGET: false,
      graphqlOverGET: false,
      watch: false,
      maxRequestLength: 1_000_000,
    },
    grafast: { explain: false },
  };

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  server.on("error", (e) => { console.error(e); process.exit(1); });
  await serv.addTo(server);
  await pgl.getSchema(); // build the schema (introspection) before accepting traffic
  server.listen({ port: PORT, host: "127.0.0.1", exclusive: true, reusePort: true, backlog: 2048 });
  process.on("SIGTERM", async () => {
    server.close();
    await pgl.release();
    process.exit(0);
  });
}
