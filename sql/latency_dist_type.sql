-- The latency_dist type: text and binary input and output, and a fuzz test
-- that feeds thousands of mutated values to the validating input and then
-- checks the server still answers.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SET search_path = nezuko_analytics, public;

-- Text form round trip; NULLs are ignored by the aggregate.
SELECT latency_dist(x) FROM (VALUES (30), (20), (20), (NULL::int), (50), (-5)) v(x);
SELECT 'count=5 sum=115 values=-5:1,20:2,30:1,50:1'::latency_dist::text::latency_dist;
SELECT latency_dist(x) AS no_rows FROM (SELECT 1 WHERE false) v(x);
SELECT nezuko_analytics.count(d), mean(d), percentile(d, 0.5), percentiles(d, '{0,0.5,1,NULL}')
FROM (SELECT 'count=4 sum=100 values=10:1,20:1,30:1,40:1'::latency_dist AS d) s;
SELECT nezuko_analytics.count(d), mean(d), percentile(d, 0.5), percentiles(d, '{0.5}')
FROM (SELECT 'count=0 sum=0 values='::latency_dist AS d) s;

-- Malformed, truncated and inconsistent text: clear errors.
SELECT 'garbage'::latency_dist;
SELECT 'count=3 sum=30 values=10:1,20:1'::latency_dist;         -- wrong count
SELECT 'count=2 sum=30 values=20:1,10:1'::latency_dist;         -- unsorted keys
SELECT 'count=2 sum=31 values=10:1,20:1'::latency_dist;         -- sum does not match
SELECT 'count=1 sum=1048577 values=1048577:1'::latency_dist;    -- not a stored key
SELECT 'count=1 sum=5 values=5:1 extra'::latency_dist;
SELECT percentile('count=1 sum=5 values=5:1', 1.5);
SELECT percentile('count=1 sum=5 values=5:1', 'NaN');

-- Bytes: round trip, truncation, a length that runs past the end.
SELECT latency_dist_from_bytes(latency_dist_to_bytes(d))::text = d::text AS bytes_round_trip
FROM (SELECT latency_dist(g % 997) AS d FROM generate_series(1, 5000) g) s;
SELECT latency_dist_from_bytes(substr(latency_dist_to_bytes('count=2 sum=30 values=10:1,20:1'), 1, 5));
SELECT latency_dist_from_bytes('\x01ffffffff0f0000'::bytea);
SELECT latency_dist_from_bytes('\x02000000'::bytea);
SELECT latency_dist_from_bytes(''::bytea);

-- Binary input (recv) through COPY BINARY: a round trip, then a truncated file.
CREATE TEMP TABLE dists (d latency_dist);
INSERT INTO dists SELECT latency_dist(g % 300) FROM generate_series(1, 3000) g GROUP BY g % 7;
\set copyfile '/tmp/nezuko_analytics_regress_copy.bin'
COPY dists TO :'copyfile' (FORMAT binary);
CREATE TEMP TABLE dists_back (d latency_dist);
COPY dists_back FROM :'copyfile' (FORMAT binary);
SELECT (SELECT array_agg(d::text ORDER BY d::text) FROM dists) = (SELECT array_agg(d::text ORDER BY d::text) FROM dists_back) AS binary_round_trip;
-- A value cut short inside the file: its length field and its bytes both lose one.
CREATE TEMP TABLE one (d latency_dist);
INSERT INTO one VALUES ('count=2 sum=30 values=10:1,20:1');
COPY one TO :'copyfile' (FORMAT binary);
-- file: 19-byte header | int16 field count | int32 value length | value | int16 trailer
SELECT pg_read_binary_file(:'copyfile') AS file \gset
SELECT get_byte(:'file'::bytea, 24) AS vlen \gset
SELECT lo_from_bytea(0, overlay(overlay(:'file'::bytea placing int4send(:vlen - 1) from 22 for 4)
                                placing ''::bytea from 25 + :vlen for 1)) AS lo \gset
SELECT lo_export(:lo, :'copyfile') = 1 AS exported, lo_unlink(:lo) = 1 AS unlinked;
COPY one FROM :'copyfile' (FORMAT binary);
DROP TABLE dists, dists_back, one;

-- Fuzz: 4,000 mutated byte strings and 2,000 mutated texts.  Each must be
-- either rejected with 22P03 / 22P02 or accepted as a value that reads back
-- consistently; anything else (or a crash) fails the test.
CREATE FUNCTION pg_temp.u(g bigint, salt bigint) RETURNS int LANGUAGE sql IMMUTABLE
AS $$ SELECT (hashint8extended(g, salt) & 2147483647)::int $$;
DO $$
DECLARE
    good bytea := nezuko_analytics.latency_dist_to_bytes(
        (SELECT nezuko_analytics.latency_dist(CASE WHEN g % 50 = 0 THEN g * 1000 ELSE g % 400 END)
         FROM generate_series(1, 2000) g));
    good_text text := (SELECT nezuko_analytics.latency_dist(g % 40)::text FROM generate_series(1, 200) g);
    b bytea; t text; d nezuko_analytics.latency_dist;
    accepted int := 0; rejected int := 0; pos int; i int; k int;
BEGIN
    FOR i IN 1..4000 LOOP
        b := good;
        FOR k IN 1..(1 + pg_temp.u(i, 1) % 3) LOOP
            pos := pg_temp.u(i * 7 + k, 2) % length(b);
            CASE pg_temp.u(i * 7 + k, 3) % 4
                WHEN 0 THEN b := set_byte(b, pos, pg_temp.u(i * 7 + k, 4) % 256);
                WHEN 1 THEN b := substr(b, 1, pos);                                   -- truncate
                WHEN 2 THEN b := overlay(b placing '\xff'::bytea from pos + 1 for 0);  -- insert
                ELSE b := overlay(b placing ''::bytea from pos + 1 for 1);            -- delete
            END CASE;
            EXIT WHEN length(b) = 0;
        END LOOP;
        BEGIN
            d := nezuko_analytics.latency_dist_from_bytes(b);
            -- accepted: it must read back
            PERFORM nezuko_analytics.percentiles(d, '{0,0.5,1}'), nezuko_analytics.count(d), d::text;
            accepted := accepted + 1;
        EXCEPTION WHEN invalid_binary_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    RAISE NOTICE 'bytes: % mutated values, % rejected with 22P03, % accepted and consistent',
        accepted + rejected, rejected, accepted;
    accepted := 0; rejected := 0;
    FOR i IN 1..2000 LOOP
        pos := 1 + pg_temp.u(i, 5) % length(good_text);
        t := overlay(good_text placing substr('0123456789:,= -x', 1 + pg_temp.u(i, 6) % 16, 1)
                     from pos for pg_temp.u(i, 7) % 2);
        BEGIN
            d := t::nezuko_analytics.latency_dist;
            PERFORM nezuko_analytics.percentile(d, 0.5), d::text;
            accepted := accepted + 1;
        EXCEPTION WHEN invalid_text_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    RAISE NOTICE 'text: % mutated values, all either rejected with 22P02 or accepted (% rejected)',
        accepted + rejected, CASE WHEN rejected > 1000 THEN 'over half' ELSE 'under half' END;
END $$;
SELECT 'the server still answers' AS after_fuzz;

RESET search_path;
DROP EXTENSION nezuko_analytics;
