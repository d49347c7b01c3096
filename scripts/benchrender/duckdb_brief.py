"""DuckDB side of scripts/bench-render.sh: the executive posture brief's aggregates over the
same stored JSONL segment files the product rendered from (listed in DIR/segments.txt), timed
and measured the same way (in-process wall time of the computation, ru_maxrss), then checked
table by table against the product's json artifact (DIR/brief.json).

usage: python duckdb_brief.py DIR WINDOW_FROM WINDOW_TO
"""
import json
import resource
import sys
import time

import duckdb

DECISIONS = ["allowed", "blocked", "approval_required", "approved", "denied", "observed"]

COLUMNS = {
    "source": "STRUCT(kind VARCHAR, connector VARCHAR, agent VARCHAR)",
    "event": "STRUCT(occurred_at VARCHAR, decision VARCHAR, severity VARCHAR, policy_pack VARCHAR, action_category VARCHAR)",
}

COUNTS = {
    "by_decision": "decision",
    "by_severity": "severity",
    "by_connector": "connector",
    "by_agent": "agent",
    "by_policy_pack": "policy_pack",
}


def compute(files, start, end):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        """CREATE TEMP TABLE ev AS
           SELECT source.connector AS connector, source.agent AS agent,
                  CAST(event.occurred_at AS TIMESTAMPTZ) AS ts, event.decision AS decision,
                  event.severity AS severity, event.policy_pack AS policy_pack,
                  coalesce(nullif(event.action_category, ''), 'unspecified') AS action
           FROM read_json(?, format = 'newline_delimited', columns = ?)
           WHERE CAST(event.occurred_at AS TIMESTAMPTZ) >= CAST(? AS TIMESTAMPTZ)
             AND CAST(event.occurred_at AS TIMESTAMPTZ) < CAST(? AS TIMESTAMPTZ)""",
        [files, COLUMNS, start, end],
    )
    out = {}
    for table, col in COUNTS.items():
        out[table] = dict(con.execute(f"SELECT {col}, count(*) FROM ev GROUP BY 1").fetchall())
    out["blocked_actions"] = dict(con.execute(
        "SELECT action, count(*) FROM ev WHERE decision IN ('blocked', 'denied') GROUP BY 1").fetchall())
    out["approval_required_actions"] = dict(con.execute(
        "SELECT action, count(*) FROM ev WHERE decision = 'approval_required' GROUP BY 1").fetchall())
    pivot = ", ".join(f"count(*) FILTER (WHERE decision = '{d}')" for d in DECISIONS)
    out["trend"] = {
        r[0]: list(r[1:])
        for r in con.execute(f"SELECT strftime(ts, '%Y-%m-%d'), count(*), {pivot} FROM ev GROUP BY 1").fetchall()
    }
    out["events"], = con.execute("SELECT count(*) FROM ev").fetchone()
    return out


def product_tables(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for t in doc["tables"]:
        if t["id"] == "trend":
            out["trend"] = {r[0]: r[1:] for r in t["rows"]}
        else:
            out[t["id"]] = {r[0]: r[1] for r in t["rows"]}
    return out


def main():
    folder, start, end = sys.argv[1:4]
    with open(f"{folder}/segments.txt") as f:
        files = [line.strip() for line in f if line.strip()]
    began = time.perf_counter()
    got = compute(files, start, end)
    wall_ms = (time.perf_counter() - began) * 1000
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    want = product_tables(f"{folder}/brief.json")
    mismatched = [k for k in want if want[k] != got.get(k)]
    print(json.dumps({"engine": f"duckdb {duckdb.__version__}", "events": got["events"], "files": len(files),
                      "wall_ms": round(wall_ms, 1), "max_rss_kb": rss_kb, "tables_match": not mismatched,
                      "mismatched_tables": mismatched}))
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
