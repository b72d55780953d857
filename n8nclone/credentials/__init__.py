"""Named credentials (API keys, header, basic and bearer auth), encrypted at rest.

`types` parses and masks values, `crypto` holds the secret key and the encryption,
`vault` is what the CLI, the API and the engine use."""
