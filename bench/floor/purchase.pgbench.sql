-- The PostgreSQL floor of a purchase (bench/lib/floor.ts runs it with pgbench): the two statements the
-- service sends per purchase, the hold function then the payment function, with nothing in front of
-- PostgreSQL but pgbench. Transaction k of client c is row n of bench_floor (its buyer, event, date,
-- seat and reservation id), so every transaction buys a different seat for a different buyer.
\set n :client_id + :clients * :k
\set k :k + 1
SELECT h.out_refusal FROM bench_floor f, purchase_hold(f.reservation_id, f.schedule_id, f.seat_number, f.user_id, :hold_ms, :max_holds, NULL) h WHERE f.n = :n;
SELECT p.out_refusal, p.out_outcome->>'ok' FROM bench_floor f, purchase_pay(f.user_id, f.event_id, ARRAY[f.reservation_id], NULL, NULL, 0, NULL) p WHERE f.n = :n;
