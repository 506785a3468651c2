"""Pure domain code: no IO, no psycopg/playwright/openai/prefect imports."""
