// Vite + vitest config for Lanyard's window. The build lands in ui/dist (Tauri's frontendDist
// is ../ui/dist). svelteTesting() makes vitest resolve Svelte's browser build and cleans up
// rendered components after each test.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  // Relative asset URLs so the bundle works from Tauri's custom protocol and from a file server.
  base: './',
  // Tauri's dev URL expects a fixed port; fail instead of silently moving to another.
  server: { port: 1420, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2021' },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test-setup.ts'],
    include: ['src/**/*.test.ts'],
  },
});
