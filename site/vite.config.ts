/**
 * Builds the theme's browser half: `site/main.ts` (and the CSS it imports)
 * into `dist/theme/`, with content-hashed assets and a manifest the compiler
 * reads to link them (`.vite/manifest.json`, key `main.ts`).
 *
 * `base: './'` makes every URL Vite writes into JS relative to the chunk that
 * holds it (dynamic imports resolve against `import.meta.url`), so the theme
 * works under any `site.base` without rewriting.
 */
import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  clearScreen: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/theme/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    manifest: true,
    target: 'es2022',
    cssTarget: ['chrome111', 'edge111', 'firefox114', 'safari16.4'],
    // The search chunks load on demand; no preload helper is needed.
    modulePreload: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: {main: fileURLToPath(new URL('./main.ts', import.meta.url))},
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
})
