// The site's configuration, served as /config.js (NOT committed: the deployment writes it with
// the city's values; the local stack generates it). Copy this file to web/config.js to serve the
// pages with any static server.
window.INFORMATOR_CONFIG = {
  // Base URL of the API (API Gateway stage or custom domain), without a trailing slash.
  api: 'https://api.informator.ciechanow.pl',
  // Map tiles: the city's tile provider and its attribution (OpenStreetMap's own tile servers are
  // for light use only). Pages work without tiles: districts and texts still show.
  tiles: {
    url: 'https://tiles.example-provider.pl/{z}/{x}/{y}.png',
    attribution: '© OpenStreetMap contributors'
  },
  // Used by the admin page only (staff login).
  cognito: { endpoint: '', user_pool_id: 'eu-central-1_XXXXXXXXX', client_id: 'xxxxxxxxxxxxxxxxxxxxxxxxxx' },
  region: 'eu-central-1',
  // local | dev | prod
  stage: 'prod'
};

// Content-Security-Policy for the site (a CloudFront response-headers policy, or a <meta> tag
// written at deployment): only the site itself, the API, the photo bucket and the tile server.
// Every page already carries a <meta> policy limiting scripts and styles to the site itself; no
// page needs inline script, inline style attributes, eval or third-party hosts. The browser tests
// run every page under this policy with the local origins filled in:
//   default-src 'self'; script-src 'self'; style-src 'self';
//   img-src 'self' data: blob: <tiles origin> <photo bucket origin>;
//   connect-src 'self' <api origin> <photo bucket origin>;
//   manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self';
//   form-action 'self'; frame-ancestors 'none'
