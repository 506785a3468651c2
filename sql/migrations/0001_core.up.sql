-- 0001 core schema: the whole data model of DESIGN.md. Idempotent: every object IF NOT EXISTS / OR REPLACE.

CREATE TABLE IF NOT EXISTS accounts (
    account_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handle       text NOT NULL UNIQUE CHECK (handle ~ '^[A-Za-z0-9_]{1,30}$'),
    x_base_url   text NOT NULL CHECK (x_base_url ~ '^https?://'),
    session_file text,               -- a reference (path) to the storage-state file, never its contents
    timezone     text NOT NULL DEFAULT 'UTC',
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Immutable weights and reference scales; the reward of any outcome can be recomputed under any version.
CREATE TABLE IF NOT EXISTS reward_versions (
    version        integer PRIMARY KEY CHECK (version > 0),
    w_fpki         double precision NOT NULL,
    w_retweet      double precision NOT NULL,
    w_reply        double precision NOT NULL,
    w_novelty      double precision NOT NULL,
    w_dup_penalty  double precision NOT NULL CHECK (w_dup_penalty <= 0),
    scale_fpki     double precision NOT NULL CHECK (scale_fpki > 0),
    scale_retweet  double precision NOT NULL CHECK (scale_retweet > 0),
    scale_reply    double precision NOT NULL CHECK (scale_reply > 0),
    exposure_cap   double precision NOT NULL CHECK (exposure_cap > 0),
    is_active      boolean NOT NULL DEFAULT false,
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (greatest(w_fpki, w_retweet, w_reply, w_novelty) > 0)
);
CREATE UNIQUE INDEX IF NOT EXISTS reward_versions_one_active ON reward_versions (is_active) WHERE is_active;

CREATE OR REPLACE FUNCTION reward_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.version, NEW.w_fpki, NEW.w_retweet, NEW.w_reply, NEW.w_novelty, NEW.w_dup_penalty,
        NEW.scale_fpki, NEW.scale_retweet, NEW.scale_reply, NEW.exposure_cap, NEW.created_at)
       IS DISTINCT FROM
       (OLD.version, OLD.w_fpki, OLD.w_retweet, OLD.w_reply, OLD.w_novelty, OLD.w_dup_penalty,
        OLD.scale_fpki, OLD.scale_retweet, OLD.scale_reply, OLD.exposure_cap, OLD.created_at) THEN
        RAISE EXCEPTION 'reward_versions are immutable (version %); create a new version', OLD.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS reward_versions_immutable ON reward_versions;
CREATE TRIGGER reward_versions_immutable BEFORE UPDATE ON reward_versions
    FOR EACH ROW EXECUTE FUNCTION reward_versions_immutable();

CREATE TABLE IF NOT EXISTS experiments (
    experiment_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts (account_id),
    name           text NOT NULL,
    scope          text NOT NULL CHECK (scope IN ('content_type', 'hook_pattern', 'timing_slot')),
    treatment_arm  text NOT NULL,
    share          double precision NOT NULL CHECK (share > 0 AND share < 1),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'planned'
                   CHECK (status IN ('planned', 'running', 'analysing', 'shipped', 'rolled_back', 'stopped')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    UNIQUE (account_id, name, starts_at)
);
CREATE INDEX IF NOT EXISTS experiments_active ON experiments (account_id, starts_at, ends_at);

-- One row per decision (a planned post).
CREATE TABLE IF NOT EXISTS content_metadata (
    decision_id        uuid PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts (account_id),
    content            text,
    content_hash       text CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    status             text NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'posting', 'posted', 'failed', 'skipped')),
    skip_reason        text,
    last_error         text,
    generation_source  text NOT NULL CHECK (generation_source IN ('real', 'synthetic')),
    simulated          boolean NOT NULL DEFAULT false,
    scheduled_at       timestamptz NOT NULL,
    content_type       text NOT NULL,
    hook_pattern       text NOT NULL,
    timing_slot        text NOT NULL,
    policy             text NOT NULL
                       CHECK (policy IN ('thompson', 'ucb1', 'epsilon_greedy', 'experiment', 'uniform', 'fixed')),
    p_content_type     double precision CHECK (p_content_type > 0 AND p_content_type <= 1),
    p_hook_pattern     double precision CHECK (p_hook_pattern > 0 AND p_hook_pattern <= 1),
    p_timing_slot      double precision CHECK (p_timing_slot > 0 AND p_timing_slot <= 1),
    propensity         double precision CHECK (propensity > 0 AND propensity <= 1),
    experiment_id      bigint REFERENCES experiments (experiment_id),
    novelty            double precision CHECK (novelty >= 0 AND novelty <= 1),
    dup_penalty        double precision CHECK (dup_penalty >= 0 AND dup_penalty <= 1),
    readability_score  double precision,
    sentiment          double precision CHECK (sentiment >= -1 AND sentiment <= 1),
    llm_model          text,
    prompt_template    text,
    claimed_by         text,
    claimed_at         timestamptz,
    lease_expires_at   timestamptz,
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (content IS NOT NULL OR status IN ('skipped', 'failed')),
    CHECK (content IS NULL OR content_hash IS NOT NULL),
    CHECK (status <> 'skipped' OR skip_reason IS NOT NULL),
    CHECK (status <> 'posting' OR (claimed_by IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- the posting queue: queued real rows, oldest scheduled first
CREATE INDEX IF NOT EXISTS content_metadata_queue ON content_metadata (account_id, scheduled_at)
    WHERE status = 'queued' AND generation_source = 'real';
-- reconciliation of expired leases
CREATE INDEX IF NOT EXISTS content_metadata_posting ON content_metadata (lease_expires_at)
    WHERE status = 'posting';
CREATE INDEX IF NOT EXISTS content_metadata_hash ON content_metadata (account_id, content_hash);
CREATE INDEX IF NOT EXISTS content_metadata_created ON content_metadata (account_id, created_at);
CREATE INDEX IF NOT EXISTS content_metadata_experiment ON content_metadata (experiment_id)
    WHERE experiment_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS experiment_assignments (
    experiment_id  bigint NOT NULL REFERENCES experiments (experiment_id),
    decision_id    uuid NOT NULL REFERENCES content_metadata (decision_id),
    variant        text NOT NULL CHECK (variant IN ('control', 'treatment')),
    arm            text NOT NULL,
    probability    double precision NOT NULL CHECK (probability > 0 AND probability <= 1),
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (experiment_id, decision_id)
);
CREATE INDEX IF NOT EXISTS experiment_assignments_decision ON experiment_assignments (decision_id);

-- What went live: exactly one row per published decision, tweet_id exactly as X returned it.
CREATE TABLE IF NOT EXISTS posted_decisions (
    decision_id  uuid PRIMARY KEY REFERENCES content_metadata (decision_id),
    account_id   bigint NOT NULL REFERENCES accounts (account_id),
    tweet_id     text NOT NULL UNIQUE CHECK (tweet_id ~ '^[0-9]{1,25}$'),
    post_url     text,
    posted_at    timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    reconciled   boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS posted_decisions_account_time ON posted_decisions (account_id, posted_at);

-- One row per (decision, pass): pass 1 = T+1h, pass 2 = T+24h. Unknown metrics are NULL, never 0.
CREATE TABLE IF NOT EXISTS outcomes (
    decision_id        uuid NOT NULL REFERENCES posted_decisions (decision_id),
    collected_pass     smallint NOT NULL CHECK (collected_pass IN (1, 2)),
    account_id         bigint NOT NULL REFERENCES accounts (account_id),
    status             text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'unavailable')),
    unavailable_reason text,
    due_at             timestamptz NOT NULL,
    collected_at       timestamptz NOT NULL,
    impressions        bigint CHECK (impressions >= 0),
    likes              bigint CHECK (likes >= 0),
    retweets           bigint CHECK (retweets >= 0),
    replies            bigint CHECK (replies >= 0),
    quotes             bigint CHECK (quotes >= 0),
    bookmarks          bigint CHECK (bookmarks >= 0),
    profile_visits     bigint CHECK (profile_visits >= 0),
    link_clicks        bigint CHECK (link_clicks >= 0),
    follows            double precision CHECK (follows >= 0),
    follows_source     text CHECK (follows_source IN ('analytics', 'attributed')),
    follows_confidence text CHECK (follows_confidence IN ('high', 'medium', 'low')),
    er                 double precision CHECK (er >= 0),
    fpki               double precision CHECK (fpki >= 0),
    retweet_rate       double precision CHECK (retweet_rate >= 0),
    reply_rate         double precision CHECK (reply_rate >= 0),
    reward_composite   double precision,
    reward_version     integer REFERENCES reward_versions (version),
    simulated          boolean NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (decision_id, collected_pass),
    CHECK (status = 'ok' OR unavailable_reason IS NOT NULL),
    CHECK (reward_composite IS NULL OR reward_version IS NOT NULL),
    CHECK (follows IS NULL OR follows_source IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS outcomes_account_collected ON outcomes (account_id, simulated, collected_at);

CREATE TABLE IF NOT EXISTS follower_snapshots (
    snapshot_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (account_id),
    taken_at     timestamptz NOT NULL,
    followers    bigint NOT NULL CHECK (followers >= 0),
    source       text NOT NULL CHECK (source IN ('post', 'collect', 'manual')),
    simulated    boolean NOT NULL,
    UNIQUE (account_id, taken_at)
);

CREATE TABLE IF NOT EXISTS bandit_arms (
    account_id      bigint NOT NULL REFERENCES accounts (account_id),
    scope           text NOT NULL CHECK (scope IN ('content_type', 'hook_pattern', 'timing_slot')),
    arm             text NOT NULL,
    simulated       boolean NOT NULL DEFAULT false,
    alpha           double precision NOT NULL CHECK (alpha > 0),
    beta            double precision NOT NULL CHECK (beta > 0),
    successes       double precision NOT NULL DEFAULT 0 CHECK (successes >= 0),
    failures        double precision NOT NULL DEFAULT 0 CHECK (failures >= 0),
    pulls           integer NOT NULL DEFAULT 0 CHECK (pulls >= 0),
    sum_reward      double precision NOT NULL DEFAULT 0,
    provisional     integer NOT NULL DEFAULT 0 CHECK (provisional >= 0),
    reward_version  integer REFERENCES reward_versions (version),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, simulated, scope, arm)
);

CREATE TABLE IF NOT EXISTS training_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES accounts (account_id),
    simulated       boolean NOT NULL,
    status          text NOT NULL CHECK (status IN ('trained', 'insufficient_data')),
    reward_version  integer REFERENCES reward_versions (version),
    outcomes_used   integer NOT NULL DEFAULT 0 CHECK (outcomes_used >= 0),
    arms_trained    integer NOT NULL DEFAULT 0 CHECK (arms_trained >= 0),
    explore_ratio   double precision CHECK (explore_ratio >= 0 AND explore_ratio <= 1),
    message         text,
    ran_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS training_runs_account ON training_runs (account_id, simulated, ran_at);

-- LLM budget per workspace and UTC (or configured) day; reserved before a call, settled after.
CREATE TABLE IF NOT EXISTS llm_budget_days (
    budget_day      date PRIMARY KEY,
    limit_usd       numeric(12, 6) NOT NULL CHECK (limit_usd >= 0),
    used_usd        numeric(12, 6) NOT NULL DEFAULT 0 CHECK (used_usd >= 0),
    reserved_usd    numeric(12, 6) NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
    circuit_open    boolean NOT NULL DEFAULT false,
    circuit_reason  text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS llm_usage (
    usage_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    budget_day         date NOT NULL REFERENCES llm_budget_days (budget_day),
    decision_id        uuid,
    purpose            text NOT NULL,
    model              text NOT NULL,
    status             text NOT NULL
                       CHECK (status IN ('reserved', 'succeeded', 'failed', 'quota_exceeded',
                                         'budget_exceeded', 'circuit_open')),
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    prompt_tokens      integer CHECK (prompt_tokens >= 0),
    completion_tokens  integer CHECK (completion_tokens >= 0),
    reserved_usd       numeric(12, 6) NOT NULL DEFAULT 0 CHECK (reserved_usd >= 0),
    cost_usd           numeric(12, 6) CHECK (cost_usd >= 0),
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    settled_at         timestamptz
);
CREATE INDEX IF NOT EXISTS llm_usage_day ON llm_usage (budget_day, status);

-- Runtime switches (kill switch, flags), read before every publish; no restart needed.
CREATE TABLE IF NOT EXISTS ops_control (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z_]+$'),
    enabled     boolean NOT NULL,
    reason      text,
    updated_by  text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The default reward version (DESIGN.md weights); reference scales documented in xbot_core/domain/reward.py.
INSERT INTO reward_versions (version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,
                             scale_fpki, scale_retweet, scale_reply, exposure_cap, is_active, note)
VALUES (1, 0.5, 0.3, 0.15, 0.05, -0.1, 2.0, 0.01, 0.005, 1000, true, 'default weights of DESIGN.md')
ON CONFLICT (version) DO NOTHING;
