// Builds the console pages into one folder that the CMake build embeds in the
// ektp binary (src/console). Each page is its own entry, so the station's page
// never loads the charting library.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    target: 'es2020',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        station: resolve(import.meta.dirname, 'station.html'),
        central: resolve(import.meta.dirname, 'central.html'),
        public: resolve(import.meta.dirname, 'public.html'),
      },
    },
  },
});
