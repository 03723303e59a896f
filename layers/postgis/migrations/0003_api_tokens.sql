-- API tokens made by `flask token new`: only the SHA-256 digest of a token is kept. A name is
-- unique among tokens not revoked, so a revoked editor's name can be given a new token.
CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    digest     text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
    role       text NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
