// Copies the front-end libraries from node_modules into web/vendor/ (ignored by git), so every
// script and style is served by the site itself: no third-party CDNs.
import { cpSync, mkdirSync } from 'node:fs';

const copies = [
  ['node_modules/leaflet/dist/leaflet.js', 'web/vendor/leaflet/leaflet.js'],
  ['node_modules/leaflet/dist/leaflet.css', 'web/vendor/leaflet/leaflet.css'],
  ['node_modules/leaflet/dist/images', 'web/vendor/leaflet/images'],
  ['node_modules/leaflet-draw/dist/leaflet.draw.js', 'web/vendor/leaflet-draw/leaflet.draw.js'],
  ['node_modules/leaflet-draw/dist/leaflet.draw.css', 'web/vendor/leaflet-draw/leaflet.draw.css'],
  ['node_modules/leaflet-draw/dist/images', 'web/vendor/leaflet-draw/images'],
];
for (const [from, to] of copies) {
  mkdirSync(to.substring(0, to.lastIndexOf('/')), { recursive: true });
  cpSync(from, to, { recursive: true });
}
console.log(`copied ${copies.length} front-end files to web/vendor/`);
