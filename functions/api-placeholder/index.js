// Placeholder API: lets the first deploy of an environment succeed before the
// application's CI publishes the real source (api.source_object in the environment file).
const functions = require('@google-cloud/functions-framework');

functions.http('handler', (req, res) => {
  res.status(200).json({ service: 'hexproperty-api', status: 'placeholder' });
});
