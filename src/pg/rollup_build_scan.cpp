// The rollup build's own read of the raw rows (docs/rollups.md, "The build"):
//   rollup_build_scan(bot, source, lo, hi, whole_table)
//       -> (verification rollup_verifications[], api rollup_api_calls[])
// reads the rows of bot.<source> with lo <= "timestamp" < hi without the
// executor (window_scan.hpp) and folds each one straight into a
// RollupBuilder: the same quarter hours as the build aggregates
// (rollup_build_agg.cpp) give, without a function call per row and its
// arguments.  whole_table: the range holds most of the table, which is read
// in one sequential scan; otherwise the rows come through the table's
// "timestamp" index.  The field of the other source is NULL.
//
// A whole-table read is parallel, as CREATE INDEX's is: up to
// max_parallel_maintenance_workers workers (by the table's size, as the
// planner counts them) fold runs of the table's pages, kPartsPerWorker runs
// each, into builders of their own and send each run's, encoded
// (RollupBuilder::encode(), which finishes its quarter hours), through a
// shared memory queue as soon as it is read; the leader merges each as it
// comes, while the workers read on, instead of all of them once the last
// worker is done.  A run is a range of pages, not the blocks a parallel
// sequential scan hands out in turn: the bot writes in time order, so a
// quarter hour is split between two runs only where they meet, and the
// leader has almost nothing left to finish.
//
// The read itself is read_build_source() (rollup_build_scan.hpp), which
// rollup_verification_rows() / rollup_api_call_rows() share
// (rollup_build_rows_fn.cpp: the same rows one at a time).
//
// The record is NULL when the native path may not read the table (see
// open_readable_bot_table(): no SELECT privilege, row-level security,
// SERIALIZABLE, ...) or a column has another type than the bot's schema
// gives it; the SQL caller then runs the aggregates instead.
#include <cstring>

#include "api_call_row_args.hpp"
#include "named_record.hpp"
#include "pg_boundary.hpp"
#include "rollup_build_rows.hpp"
#include "rollup_build_scan.hpp"
#include "verification_row_args.hpp"
#include "window_scan.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "optimizer/paths.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/wait_event.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

// The entry point of a parallel worker of the build (found by name).
PGDLLEXPORT void nz_rollup_build_worker(dsm_segment* seg, shm_toc* toc);
}

namespace {

constexpr const char* kName = "rollup_build_scan";

// What every visited row is checked against, and where it goes.
struct BuildScan {
    nz::pg::RollupBuildState* state;
    TimestampTz lo, hi;
};

// Whether a finite time is in [lo, hi) (a sequential scan visits every row;
// the window read only those of the window).
inline bool in_range(const BuildScan* b, TimestampTz t) {
    return t >= b->lo && t < b->hi;
}

// values: "timestamp", status, latency_ms, cached, group_id, read as the
// verification_quarter_hours aggregate reads its arguments.
void add_verification_row(void* acc, const Datum* values, const bool* isnull) {
    auto* b = static_cast<BuildScan*>(acc);
    nz::pg::VerificationRowArgs r = nz::pg::verification_row([&](int i) { return NullableDatum{values[i], isnull[i]}; });
    if (!r.counted || !in_range(b, r.ts)) return;
    nz::pg::run_core(kName, [&] {
        b->state->builder.add_verification(r.ts, r.status, r.has_latency, r.latency, r.cached, r.group_id);
    });
}

// values: "timestamp", method, success, latency_ms, read as api_quarter_hours
// reads its arguments (rows without a finite time skipped, as there).
void add_call_row(void* acc, const Datum* values, const bool* isnull) {
    auto* b = static_cast<BuildScan*>(acc);
    if (isnull[0]) return;
    TimestampTz t = DatumGetTimestampTz(values[0]);
    if (TIMESTAMP_NOT_FINITE(t) || !in_range(b, t)) return;
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row([&](int i) { return NullableDatum{values[1 + i], isnull[1 + i]}; });
    // the method's bytes stay valid until freed below (the builder copies them)
    nz::pg::run_core(kName, [&] { b->state->builder.add_call(t, r.method, r.method_len, r.success, r.has_latency, r.latency); });
    if (r.method_text) nz::pg::free_plain_text(r.method_text, values[1]);
}

// The columns a source's rows are read with, in the visitor's order, and
// which types they must have; false when one is missing or of another type.
bool source_columns(Relation rel, bool verification, AttrNumber* cols, int& ncols) {
    using nz::pg::column_of_type;
    if (verification) {
        cols[0] = column_of_type(rel, "timestamp", TIMESTAMPTZOID, InvalidOid);
        cols[1] = column_of_type(rel, "status", VARCHAROID, TEXTOID);
        cols[2] = column_of_type(rel, "latency_ms", INT4OID, InvalidOid);
        cols[3] = column_of_type(rel, "cached", BOOLOID, InvalidOid);
        cols[4] = column_of_type(rel, "group_id", INT8OID, InvalidOid);
        ncols = 5;
    } else {
        cols[0] = column_of_type(rel, "timestamp", TIMESTAMPTZOID, InvalidOid);
        cols[1] = column_of_type(rel, "method", VARCHAROID, TEXTOID);
        cols[2] = column_of_type(rel, "success", BOOLOID, InvalidOid);
        cols[3] = column_of_type(rel, "latency_ms", INT4OID, InvalidOid);
        ncols = 4;
    }
    for (int c = 0; c < ncols; ++c)
        if (cols[c] == InvalidAttrNumber) return false;
    return true;
}

// ---- the parallel read of a whole table ---------------------------------

// What the processes of a parallel read share: the table's pages [0, pages)
// are cut into `parts` runs, and each process takes the next run left
// (next_part) until none is.
struct SharedBuild {
    Oid relid;
    bool verification;
    int ncols;
    AttrNumber cols[nz::pg::kMaxScanColumns];
    TimestampTz lo, hi;
    BlockNumber pages;
    uint32 parts;
    pg_atomic_uint32 next_part;
};

constexpr uint64 kKeyShared = UINT64CONST(0x6E7A726F6C6C0001);  // the keys of the shared memory's table of contents
constexpr uint64 kKeyQueues = UINT64CONST(0x6E7A726F6C6C0002);
constexpr Size kQueueSize = 4 * 1024 * 1024;  // each worker's queue to the leader (a larger message goes in parts)
constexpr int kMaxWorkers = 32;
// Runs of pages per worker: the leader merges a run's quarter hours while
// the workers read the next ones, and only the last run's after them.
constexpr uint32 kPartsPerWorker = 4;

nz::pg::RowVisitor visitor(bool verification) {
    return verification ? add_verification_row : add_call_row;
}

// Takes the next run of pages left and reads it into b; false when none is left.
bool read_next_part(Relation rel, SharedBuild* shared, BuildScan* b) {
    uint32 part = pg_atomic_fetch_add_u32(&shared->next_part, 1);
    if (part >= shared->parts) return false;
    auto first = static_cast<BlockNumber>(uint64{shared->pages} * part / shared->parts);
    auto end = static_cast<BlockNumber>(uint64{shared->pages} * (part + 1) / shared->parts);
    nz::pg::scan_table_pages(rel, first, end - first, shared->ncols, shared->cols, visitor(shared->verification), b);
    return true;
}

// Merges a worker's encoded run into the leader's builder.
void merge_message(BuildScan* b, const void* data, Size len) {
    nz::pg::run_core(kName, [&] { b->state->builder.merge_encoded(static_cast<const uint8_t*>(data), len); });
}

// Receives and merges the runs of the workers' queues as they come, until
// `expected` have come; an ERROR when the workers have all stopped sending
// before (a worker's own error first).
void merge_runs_as_they_come(ParallelContext* pcxt, shm_mq_handle** from, int nqueues, uint32 expected, BuildScan* b) {
    bool detached[kMaxWorkers] = {};
    int open_queues = nqueues;
    for (uint32 received = 0; received < expected;) {
        bool progressed = false;
        for (int i = 0; i < nqueues && received < expected; ++i) {
            if (detached[i]) continue;
            Size len = 0;
            void* data = nullptr;
            shm_mq_result res = shm_mq_receive(from[i], &len, &data, true);
            if (res == SHM_MQ_SUCCESS) {
                merge_message(b, data, len);
                ++received;
                progressed = true;
            } else if (res == SHM_MQ_DETACHED) {
                detached[i] = true;
                --open_queues;
                progressed = true;
            }
        }
        if (received == expected) break;
        if (open_queues == 0) {
            WaitForParallelWorkersToFinish(pcxt);  // raises the worker's own error, when it had one
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("%s: the parallel workers ended without sending all their quarter hours (%u of %u runs)",
                                   kName, received, expected)));
        }
        if (!progressed) {
            (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, WAIT_EVENT_MQ_RECEIVE);
            ResetLatch(MyLatch);
        }
        CHECK_FOR_INTERRUPTS();
    }
}

// How many workers read a table of this many pages: none below
// min_parallel_table_scan_size, then one more each time the table is three
// times larger (as the planner counts them), at most
// max_parallel_maintenance_workers.
int build_workers(Relation rel) {
    if (IsInParallelMode() || max_parallel_maintenance_workers <= 0) return 0;
    uint64 pages = RelationGetNumberOfBlocks(rel);
    uint64 threshold = static_cast<uint64>(Max(min_parallel_table_scan_size, 1));
    if (pages < threshold) return 0;
    int workers = 1;
    for (uint64 t = threshold * 3; pages >= t && workers < kMaxWorkers; t *= 3) ++workers;
    return Min(workers, Min(max_parallel_maintenance_workers, kMaxWorkers));
}

// Every row of rel in [b->lo, b->hi) into b->state: the leader's part and
// those of up to `workers` workers.
void read_in_parallel(Relation rel, BuildScan* b, const SharedBuild& setup, int workers) {
    EnterParallelMode();
    ParallelContext* pcxt = CreateParallelContext("nezuko_analytics", "nz_rollup_build_worker", workers);
    Size shared_size = sizeof(SharedBuild);
    shm_toc_estimate_chunk(&pcxt->estimator, shared_size);
    shm_toc_estimate_chunk(&pcxt->estimator, mul_size(kQueueSize, workers));
    shm_toc_estimate_keys(&pcxt->estimator, 2);
    InitializeParallelDSM(pcxt);
    if (pcxt->seg == nullptr) {  // no dynamic shared memory to be had: alone
        DestroyParallelContext(pcxt);
        ExitParallelMode();
        nz::pg::scan_table(rel, setup.ncols, setup.cols, visitor(setup.verification), b);
        return;
    }
    auto* shared = static_cast<SharedBuild*>(shm_toc_allocate(pcxt->toc, shared_size));
    *shared = setup;
    shared->pages = RelationGetNumberOfBlocks(rel);
    shared->parts = static_cast<uint32>(workers) * kPartsPerWorker;
    pg_atomic_init_u32(&shared->next_part, 0);
    shm_toc_insert(pcxt->toc, kKeyShared, shared);
    char* queues = static_cast<char*>(shm_toc_allocate(pcxt->toc, mul_size(kQueueSize, workers)));
    shm_toc_insert(pcxt->toc, kKeyQueues, queues);
    shm_mq_handle* from[kMaxWorkers];
    for (int i = 0; i < workers; ++i) {
        shm_mq* mq = shm_mq_create(queues + i * kQueueSize, kQueueSize);
        shm_mq_set_receiver(mq, MyProc);
        from[i] = shm_mq_attach(mq, pcxt->seg, nullptr);
    }
    LaunchParallelWorkers(pcxt);
    // a worker that fails to start detaches its queue (the leader's read ends)
    for (int i = 0; i < pcxt->nworkers_launched; ++i) shm_mq_set_handle(from[i], pcxt->worker[i].bgwhandle);
    ereport(DEBUG1, (errmsg_internal("nezuko_analytics: %s with %d parallel workers", kName, pcxt->nworkers_launched)));
    // The workers read with the leader's active snapshot (restored in each).
    // The leader reads only when a worker did not start: otherwise it has
    // the merging and the rows to itself, and the machine's cores go to the
    // workers.  The runs it reads itself go straight into its builder.
    uint32 read_here = 0;
    if (pcxt->nworkers_launched < workers)
        while (read_next_part(rel, shared, b)) ++read_here;
    merge_runs_as_they_come(pcxt, from, pcxt->nworkers_launched, shared->parts - read_here, b);
    WaitForParallelWorkersToFinish(pcxt);
    DestroyParallelContext(pcxt);
    ExitParallelMode();
}

}  // namespace

void nz_rollup_build_worker(dsm_segment* seg, shm_toc* toc) {
    auto* shared = static_cast<SharedBuild*>(shm_toc_lookup(toc, kKeyShared, false));
    auto* queues = static_cast<char*>(shm_toc_lookup(toc, kKeyQueues, false));
    auto* mq = reinterpret_cast<shm_mq*>(queues + ParallelWorkerNumber * kQueueSize);
    shm_mq_set_sender(mq, MyProc);
    shm_mq_handle* to_leader = shm_mq_attach(mq, seg, nullptr);
    Relation rel = table_open(shared->relid, AccessShareLock);
    // Each run in a builder of its own, sent as soon as it is read, in a
    // memory context deleted once it is sent.
    for (;;) {
        MemoryContext run_context = AllocSetContextCreate(CurrentMemoryContext, "nezuko_analytics rollup build run",
                                                          ALLOCSET_DEFAULT_SIZES);
        BuildScan b{nz::pg::new_rollup_build_state(run_context), shared->lo, shared->hi};
        if (!read_next_part(rel, shared, &b)) {
            MemoryContextDelete(run_context);
            break;
        }
        // the encoded builder, in the state's memory (never destroyed: freed with it)
        const uint8_t* data = nullptr;
        std::size_t len = 0;
        nz::pg::run_core(kName, [&] {
            auto* bytes = new (b.state->resource.allocate(sizeof(std::pmr::vector<uint8_t>), alignof(std::pmr::vector<uint8_t>)))
                std::pmr::vector<uint8_t>(b.state->builder.encode());
            data = bytes->data();
            len = bytes->size();
        });
        if (shm_mq_send(to_leader, len, data, false, true) != SHM_MQ_SUCCESS)
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("%s: the leader stopped reading", kName)));
        MemoryContextDelete(run_context);
    }
    table_close(rel, AccessShareLock);
}

namespace nz::pg {

bool build_source_is_verification(text* source, const char* function_name) {
    const char* name = text_to_cstring(source);
    bool verification = std::strcmp(name, "verification_log") == 0;
    if (!verification && std::strcmp(name, "api_call_log") != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: source must be verification_log or api_call_log, got \"%s\"", function_name, name)));
    return verification;
}

bool build_source_readable(const char* schema, bool verification) {
    Relation rel = open_readable_bot_table(schema, verification ? "verification_log" : "api_call_log");
    if (rel == nullptr) return false;
    AttrNumber cols[kMaxScanColumns];
    int ncols = 0;
    bool readable = source_columns(rel, verification, cols, ncols);
    close_bot_table(rel);
    return readable;
}

bool read_build_source(const char* schema, bool verification, TimestampTz lo, TimestampTz hi, bool whole_table,
                       RollupBuildState* state) {
    const char* source = verification ? "verification_log" : "api_call_log";
    Relation rel = open_readable_bot_table(schema, source);
    if (rel == nullptr) return false;
    AttrNumber cols[kMaxScanColumns];
    int ncols = 0;
    if (!source_columns(rel, verification, cols, ncols)) {
        close_bot_table(rel);
        return false;
    }
    BuildScan b{state, lo, hi};
    RowVisitor visit = visitor(verification);
    WindowRead plan = plan_window_read(rel, ncols, cols);
    if (whole_table || !OidIsValid(plan.index)) {
        ereport(DEBUG1, (errmsg_internal("nezuko_analytics: %s of %s by a sequential scan", kName, source)));
        int workers = build_workers(rel);
        if (workers > 0) {
            SharedBuild setup{};
            setup.relid = RelationGetRelid(rel);
            setup.verification = verification;
            setup.ncols = ncols;
            setup.lo = lo;
            setup.hi = hi;
            for (int c = 0; c < ncols; ++c) setup.cols[c] = cols[c];
            read_in_parallel(rel, &b, setup, workers);
        } else {
            scan_table(rel, ncols, cols, visit, &b);
        }
    } else {
        WindowScan scan(rel, plan, lo, hi);
        for (int c = 0; c < ncols; ++c) scan.column(cols[c]);
        read_window(scan.visiting(visit, &b, source));
    }
    close_bot_table(rel);
    return true;
}

}  // namespace nz::pg

NZ_PG_FUNCTION(nz_rollup_build_scan) {
    for (int i = 0; i < 5; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("%s: argument %d must not be NULL", kName, i + 1)));
    const char* schema = NameStr(*PG_GETARG_NAME(0));
    bool verification = nz::pg::build_source_is_verification(PG_GETARG_TEXT_PP(1), kName);
    nz::pg::NamedRecord result(fcinfo, kName);
    // The builder's memory: its own context, deleted once the rows are made.
    MemoryContext build_context = AllocSetContextCreate(CurrentMemoryContext, "nezuko_analytics rollup build",
                                                        ALLOCSET_DEFAULT_SIZES);
    nz::pg::RollupBuildState* state = nz::pg::new_rollup_build_state(build_context);
    if (!nz::pg::read_build_source(schema, verification, PG_GETARG_TIMESTAMPTZ(2), PG_GETARG_TIMESTAMPTZ(3),
                                   PG_GETARG_BOOL(4), state)) {
        MemoryContextDelete(build_context);
        PG_RETURN_NULL();
    }
    result.set(verification ? "verification" : "api",
               verification ? nz::pg::verification_rollup_rows(state, kName) : nz::pg::api_rollup_rows(state, kName));
    Datum row = result.datum();
    MemoryContextDelete(build_context);
    PG_RETURN_DATUM(row);
}
