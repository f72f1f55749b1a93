// Vite build of the Kairos web UI. In development (`npm run dev`) API calls
// go to a Kairos server on KAIROS_URL (default http://127.0.0.1:8080).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const target = process.env.KAIROS_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/api": target, "/v1": target } },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1200 },
});
