// `make sdk` (npm run generate): the typed client, from the committed ../../openapi.json only.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi.json',
  // .js import extensions: the compiled SDK loads as plain ES modules (a browser, Node) with no bundler.
  output: { path: 'src/gen', importFileExtension: '.js' },
  plugins: [
    '@hey-api/client-fetch',
    '@hey-api/typescript',
    'zod',
    { name: '@hey-api/sdk', validator: true },
    '@tanstack/react-query',
  ],
});
