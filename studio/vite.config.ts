// The studio is built into the Python package (symphony/server/static), which `symphony serve`
// serves at / (index.html) and /assets (everything else, the SoundFont included).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../symphony/server/static",
    emptyOutDir: true,
    assetsInlineLimit: 0, // the SoundFont and the synth's worklet stay files, fetched when first played
    chunkSizeWarningLimit: 1024,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } }, // `npm run dev` next to `symphony serve`
});
