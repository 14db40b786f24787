/**
 * skyport's server entry for `bun run server.ts [flags]`: the same as
 * `skyport serve [flags]` (bin/skyport.ts). Nothing else lives here; serving
 * is `src/edge/serve.ts`.
 */
import { serve } from "./src/edge/serve.ts";

await serve(process.argv.slice(2), [process.execPath, import.meta.path]);
