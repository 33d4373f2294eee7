#!/usr/bin/env bash
# End-to-end tests of the store commands of the fwtrust CLI: init, key
# trust/revoke/list, release add/list/show and every audit verb, on a real
# store file, with the sqlite3 CLI as the attacker. Every verb has at least
# one refusal checked for its exit code and its one stderr line.
# Usage: tests/e2e/test_store_cli.sh path/to/fwtrust
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FW=$(realpath "${1:?usage: test_store_cli.sh FWTRUST}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
export FWTRUST_ACTOR=test:store-cli
unset FWTRUST_DB

no_out() { printf '%s' "$out" | grep -q -- "$1" && bad "stdout has '$1': $out"; }
# number of records in the log of store $1 (default s.db; lib.sh's reads
# $FWTRUST_DB, unset here), read directly: cheaper than 'audit verify'
log_size() { sqlite3 "${1:-s.db}" 'SELECT count(*) FROM evidence_leaves'; }
state() { # fingerprint of a store: files and their contents
  (ls -la --time-style=+ "$@" 2>&1; cat "$@" 2>/dev/null) | md5sum
}

command -v sqlite3 >/dev/null || { echo "FAIL setup: the sqlite3 CLI is missing (scripts/install-deps.sh)"; echo "RESULT 0 1"; exit 1; }

V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 200000 /dev/urandom > fw.bin
head -c 200000 /dev/urandom > other.bin
for k in alice bob mallory; do "$FW" key generate --alg ed25519 --out $k >/dev/null 2>&1; done
"$FW" key generate --alg p256 --out carol >/dev/null 2>&1
sign() { # key seq out
  "$FW" sign --key "$1.key" --image fw.bin --vendor-id $V --class-id $C --sequence "$2" --version "1.$2" --out "$3" >/dev/null 2>&1 || echo "  setup: sign $3 failed"
}
sign alice 1 a1.suit; sign alice 2 a2.suit; sign alice 3 a3.suit
sign bob 4 b4.suit; sign mallory 5 m5.suit; sign carol 6 c6.suit
ALICE=$("$FW" key id alice.pub); BOB=$("$FW" key id bob.pub); MALLORY=$("$FW" key id mallory.pub)

begin "init: store, log key (0600), first record and checkpoint"
run "$FW" init --db s.db --origin test.example/store; expect_rc 0
expect_out "origin     test.example/store"; expect_out "vkey       test.example/store+"
[ -f s.db ] && [ -f s.db-log.key ] && [ -f s.db-log.pub ] || bad "files missing: $(ls)"
[ "$(stat -c %a s.db-log.key)" = 600 ] || bad "log key mode $(stat -c %a s.db-log.key)"
[ "$(log_size)" = 1 ] || bad "log size $(log_size), expected 1"
run "$FW" audit show --db s.db --index 0; expect_rc 0; expect_out '"type":"log.init"'; expect_out '"actor":"test:store-cli"'
run "$FW" init --help; expect_rc 0; expect_out "usage: fwtrust init"
end

begin "init: an existing path is refused and left as it was"
sqlite3 s.db 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
before=$(state s.db s.db-log.key s.db-log.pub)
run "$FW" init --db s.db; expect_rc 2; expect_err "s.db: already exists"; one_line_err
run "$FW" init --db s.db --origin other.example/x; expect_rc 2; expect_err "already exists"; one_line_err
[ "$(state s.db s.db-log.key s.db-log.pub)" = "$before" ] || bad "the existing store or its key changed"
touch empty.db
run "$FW" init --db empty.db; expect_rc 2; expect_err "already exists"; one_line_err
[ ! -s empty.db ] && [ ! -e empty.db-log.key ] || bad "empty.db was written"
end

begin "init: bad origin or flags, nothing created"
run "$FW" init --db bad.db --origin "has space"; expect_rc 2; expect_err "--origin"; one_line_err
run "$FW" init --db bad.db --origin "a+b"; expect_rc 2; expect_err "--origin"; one_line_err
run "$FW" init --db bad.db --bogus; expect_rc 2; expect_err "unknown option '--bogus'"; one_line_err
run "$FW" init --db nodir/x.db; expect_rc 2; one_line_err
ls bad.db* nodir 2>/dev/null | grep -q . && bad "files left behind: $(ls bad.db* 2>/dev/null)"
end

begin "key trust: registered and recorded"
run "$FW" key trust alice.pub --name alice --role release-signing --db s.db; expect_rc 0
expect_out "trusted   $ALICE 'alice' (ed25519, release-signing)"; expect_out "evidence  record 1"
run "$FW" audit show --db s.db --index 1; expect_rc 0; expect_out '"type":"key.trust"'; expect_out "\"key_id\":\"$ALICE\""
end

begin "key trust: refusals, nothing recorded"
n=$(log_size)
run "$FW" key trust alice.pub --name alice2 --role release-signing --db s.db; expect_rc 2; expect_err "registered already"; one_line_err
run "$FW" key trust bob.pub --name alice --role release-signing --db s.db; expect_rc 2; expect_err "'alice' is registered already"; one_line_err
run "$FW" key trust bob.pub --name bob --role root --db s.db; expect_rc 2; expect_err "--role: 'root'"; one_line_err
run "$FW" key trust bob.pub --name "b o b" --role release-signing --db s.db; expect_rc 2; expect_err "--name"; one_line_err
run "$FW" key trust bob.key --name bob --role release-signing --db s.db; expect_rc 2; expect_err "bob.key"; one_line_err
run "$FW" key trust nope.pub --name bob --role release-signing --db s.db; expect_rc 2; expect_err "nope.pub"; one_line_err
run "$FW" key trust bob.pub --role release-signing --db s.db; expect_rc 2; expect_err "missing --name"; one_line_err
run "$FW" key trust bob.pub --name bob --role release-signing --db none.db; expect_rc 2; expect_err "none.db: no fwtrust store"; one_line_err
[ "$(log_size)" = "$n" ] || bad "log grew from $n to $(log_size)"
[ ! -e none.db ] || bad "none.db created"
end

begin "release add: signed by an untrusted key is refused (exit 1)"
n=$(log_size)
run "$FW" release add m5.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 1
expect_err "REFUSED"; expect_err "$MALLORY"; expect_err "not registered"; one_line_err
run "$FW" release list --db s.db --json; expect_rc 0; [ "$out" = "[]" ] || bad "releases: $out"
[ "$(log_size)" = "$n" ] || bad "log grew from $n to $(log_size)"
end

begin "release add / list / show"
run "$FW" release add a1.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 0
A1=$(sha256sum a1.suit | cut -d' ' -f1)
expect_out "release   $A1"; expect_out "signed by $ALICE (alice)"; expect_out "evidence  record 2"
cp s.db snap3.db # the tree state of 3 records, for the insider below
[ -f "s.db.objects/sha256/${A1:0:2}/${A1:2}" ] || bad "envelope not stored content-addressed"
cmp -s a1.suit "s.db.objects/sha256/${A1:0:2}/${A1:2}" || bad "stored envelope differs"
run "$FW" release list --db s.db; expect_rc 0; expect_out "${A1:0:16} gw"; expect_out " ok$"
run "$FW" release show "${A1:0:12}" --db s.db; expect_rc 0; expect_out "\"release_id\": \"$A1\""; expect_out '"status": "ok"'
run "$FW" audit show --db s.db --index 2; expect_rc 0; expect_out '"type":"release.add"'; expect_out '"refs":\[{"idx":1,'
end

begin "release add / show: refusals"
n=$(log_size)
run "$FW" release add a1.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 2; expect_err "added already"; one_line_err
run "$FW" release add a2.suit --image other.bin --product gw --family x1 --db s.db; expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" release add a2.suit --image fw.bin --product "" --family x1 --db s.db; expect_rc 2; expect_err "--product"; one_line_err
run "$FW" release add a2.suit --image fw.bin --family x1 --db s.db; expect_rc 2; expect_err "missing --product"; one_line_err
head -c 300 fw.bin > junk.suit
run "$FW" release add junk.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" release add fw.bin --image fw.bin --product gw --family x1 --db s.db; expect_rc 2; expect_err "fw.bin"; one_line_err
run "$FW" release add nope.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 2; expect_err "nope.suit"; one_line_err
run "$FW" release show 00000000 --db s.db; expect_rc 2; expect_err "no release '00000000'"; one_line_err
run "$FW" release show --db s.db; expect_rc 2; expect_err "expected exactly one release id"; one_line_err
run "$FW" release list --db s.db extra; expect_rc 2; one_line_err
[ "$(log_size)" = "$n" ] || bad "log grew from $n to $(log_size)"
end

begin "key revoke: revoked releases show it, new ones signed by it are refused"
run "$FW" key trust bob.pub --name bob --role release-signing --db s.db; expect_rc 0
run "$FW" key revoke alice --reason "key compromised" --db s.db; expect_rc 0; expect_out "revoked   $ALICE 'alice'"
run "$FW" key list --db s.db; expect_rc 0
printf '%s\n' "$out" | grep -q "^${ALICE:0:16} alice .* revoked " || bad "key list: $out"
printf '%s\n' "$out" | grep -q "^${BOB:0:16} bob .* active " || bad "key list: $out"
run "$FW" key list --db s.db --json; expect_rc 0; expect_out '"revoke_reason": "key compromised"'
run "$FW" release list --db s.db; expect_rc 0; expect_out "signed-by-revoked-key"
run "$FW" release show "$A1" --db s.db; expect_rc 0; expect_out '"status": "signed-by-revoked-key"'
n=$(log_size)
run "$FW" release add a2.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 1
expect_err "REFUSED"; expect_err "$ALICE 'alice', which is revoked"; one_line_err
[ "$(log_size)" = "$n" ] || bad "log grew from $n to $(log_size)"
run "$FW" release add b4.suit --image fw.bin --product gw --family x1 --db s.db; expect_rc 0; expect_out "signed by $BOB (bob)"
run "$FW" audit log --db s.db --from 4 --limit 1; expect_out '"type":"key.revoke"'; expect_out '"reason":"key compromised"'
end

begin "key revoke / list: refusals"
n=$(log_size)
run "$FW" key revoke alice --reason again --db s.db; expect_rc 2; expect_err "revoked already"; one_line_err
run "$FW" key revoke nobody --reason x --db s.db; expect_rc 2; expect_err "no key 'nobody'"; one_line_err
run "$FW" key revoke bob --db s.db; expect_rc 2; expect_err "missing --reason"; one_line_err
run "$FW" key revoke bob --reason "" --db s.db; expect_rc 2; expect_err "--reason"; one_line_err
run "$FW" key list --db none.db; expect_rc 2; expect_err "no fwtrust store"; one_line_err
run "$FW" key list --db s.db --bogus; expect_rc 2; expect_err "unknown option '--bogus'"; one_line_err
[ "$(log_size)" = "$n" ] || bad "log grew from $n to $(log_size)"
run "$FW" key list --db s.db; printf '%s\n' "$out" | grep -q "^${BOB:0:16} bob .* active " || bad "bob changed: $out"
end

begin "audit checkpoint: signs when the log grew, never twice for one size"
run "$FW" audit checkpoint --db s.db --out cp1.note; expect_rc 0
size=$(log_size)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = "test.example/store" ] || bad "origin line: $out"
[ "$(printf '%s\n' "$out" | sed -n 2p)" = "$size" ] || bad "size line, expected $size: $out"
expect_out "— test.example/store "
cmp -s cp1.note .out || bad "--out differs from stdout"
run "$FW" audit checkpoint --db s.db --out cp1b.note; expect_rc 0
cmp -s cp1.note cp1b.note || bad "a second, different note for the same size"
run "$FW" audit checkpoint --db none.db; expect_rc 2; expect_err "no fwtrust store"; one_line_err
mv s.db-log.key s.db-log.key.away
"$FW" key trust carol.pub --name carol --role release-signing --db s.db >/dev/null 2>&1
run "$FW" audit checkpoint --db s.db; expect_rc 2; expect_err "s.db-log.key"; one_line_err
cp alice.key s.db-log.key
run "$FW" audit checkpoint --db s.db; expect_rc 2; expect_err "not the log key"; one_line_err
mv s.db-log.key.away s.db-log.key
run "$FW" audit checkpoint --db s.db --out cp2.note; expect_rc 0
[ "$(sed -n 2p cp2.note)" = "$(log_size)" ] || bad "cp2 is not of the log's size"
end

begin "audit key"
run "$FW" audit key --db s.db; expect_rc 0
vkey=$out
printf '%s' "$vkey" | grep -qE '^test\.example/store\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' || bad "vkey: $vkey"
grep -q "$vkey" <("$FW" audit show --db s.db --index 0) || bad "vkey not in the init record"
run "$FW" audit key --db none.db; expect_rc 2; expect_err "no fwtrust store"; one_line_err
run "$FW" audit key --db s.db extra; expect_rc 2; one_line_err
end

begin "audit log and show"
size=$(log_size)
run "$FW" audit log --db s.db; expect_rc 0
[ "$(printf '%s\n' "$out" | grep -c .)" = "$size" ] || bad "$(printf '%s\n' "$out" | grep -c .) lines, $size records"
printf '%s\n' "$out" | awk '{ if ($1 != NR-1 || length($2) != 64) { bad=1 } } END { exit bad }' || bad "index/hash columns"
run "$FW" audit log --db s.db --from 1 --limit 2; expect_rc 0
[ "$(printf '%s\n' "$out" | cut -d' ' -f1 | tr '\n' ' ')" = "1 2 " ] || bad "--from 1 --limit 2: $out"
run "$FW" audit log --db s.db --limit x; expect_rc 2; expect_err "--limit"; one_line_err
run "$FW" audit show --db s.db --index 2; expect_rc 0
[ "$(printf '%s' "$out" | sha256sum)" = "$(sed -n 3p <("$FW" audit log --db s.db) | cut -d' ' -f3- | tr -d '\n' | sha256sum)" ] || bad "show and log differ"
run "$FW" audit show --db s.db --index "$size"; expect_rc 2; expect_err "no evidence record $size"; one_line_err
run "$FW" audit show --db s.db; expect_rc 2; expect_err "missing --index"; one_line_err
run "$FW" audit show --db s.db --index -1; expect_rc 2; expect_err "--index"; one_line_err
end

begin "audit prove + verify-proof (offline)"
run "$FW" audit prove --db s.db --index 2 --out r2; expect_rc 0; expect_out "proof       r2.proof (record 2,"
[ -s r2.proof ] && [ -s r2.record ] && [ -s r2.checkpoint ] || bad "files: $(ls r2.*)"
head -n 1 r2.proof | grep -qx "c2sp.org/tlog-proof@v1" || bad "proof header: $(head -n 1 r2.proof)"
cmp -s r2.checkpoint cp2.note || bad "proof is not against the latest checkpoint"
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.record --key s.db-log.pub
expect_rc 0; expect_out "OK record 2 is in checkpoint"
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.record --key s.db-log.pub --origin test.example/store
expect_rc 0
run "$FW" audit prove --db s.db --index 999; expect_rc 2; expect_err "latest checkpoint covers records 0 to"; one_line_err
run "$FW" audit prove --db s.db; expect_rc 2; expect_err "missing --index"; one_line_err
end

begin "verify-proof: a record changed by one byte, and other refusals"
cp r2.record r2.bad; flip_byte r2.bad 10
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.bad --key s.db-log.pub
expect_rc 1; expect_err "REFUSED"; expect_err "record 2 is not in checkpoint"; one_line_err
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.record --key alice.pub
expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.record --key carol.pub
expect_rc 2; expect_err "the log key is Ed25519"; one_line_err
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record r2.record --key s.db-log.pub --origin other.example/log
expect_rc 1; expect_err "REFUSED"; expect_err "origin"; one_line_err
run "$FW" audit verify-proof --checkpoint cp1.note --proof r2.proof --record r2.record --key s.db-log.pub
expect_rc 1; expect_err "another checkpoint"; one_line_err
h=$(sed -n 3p r2.proof); [ "${h:0:1}" = A ] && c=B || c=A
sed "3s/^./$c/" r2.proof > r2.proof.bad
cmp -s r2.proof r2.proof.bad && bad "setup: proof unchanged"
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof.bad --record r2.record --key s.db-log.pub
expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" audit verify-proof --checkpoint nope.note --proof r2.proof --record r2.record --key s.db-log.pub
expect_rc 2; expect_err "nope.note"; one_line_err
run "$FW" audit verify-proof --proof r2.proof --record r2.record --key s.db-log.pub
expect_rc 2; expect_err "missing --checkpoint"; one_line_err
end

begin "audit consistency + verify-consistency (offline)"
s1=$(sed -n 2p cp1.note); s2=$(sed -n 2p cp2.note)
run "$FW" audit consistency --db s.db --from "$s1" --to "$s2" --out c12.txt; expect_rc 0
head -n 1 c12.txt | grep -qx "fwtrust-consistency/v1" || bad "header: $(head -n 1 c12.txt)"
run "$FW" audit verify-consistency --old cp1.note --new cp2.note --proof c12.txt --key s.db-log.pub
expect_rc 0; expect_out "OK the new checkpoint extends the old one"
run "$FW" audit verify-consistency --old cp2.note --new cp1.note --proof c12.txt --key s.db-log.pub
expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" audit verify-consistency --old cp1.note --new cp2.note --proof c12.txt --key mallory.pub
expect_rc 1; expect_err "REFUSED"; one_line_err
run "$FW" audit consistency --db s.db --from 0; expect_rc 2; expect_err "--from 0"; one_line_err
run "$FW" audit consistency --db s.db --from 1 --to 9999; expect_rc 2; expect_err "--to 9999"; one_line_err
run "$FW" audit consistency --db s.db; expect_rc 2; expect_err "missing --from"; one_line_err
run "$FW" audit verify-consistency --old cp1.note --new cp2.note --key s.db-log.pub; expect_rc 2; expect_err "missing --proof"; one_line_err
end

begin "audit verify: clean store, with held checkpoints, and --json"
run "$FW" audit verify --db s.db --checkpoint cp1.note --checkpoint cp2.note; expect_rc 0
expect_out "^OK s.db: $(log_size) records, 3 checkpoints and the held ones verified"
run "$FW" audit verify --db s.db --json; expect_rc 0; expect_out '"ok": true'; expect_out '"findings": \[\]'
run "$FW" audit verify --db s.db --checkpoint nope.note; expect_rc 2; expect_err "nope.note"; one_line_err
run "$FW" audit verify --db none.db; expect_rc 2; expect_err "no fwtrust store"; one_line_err
printf 'not a note\n' > junk.note
run "$FW" audit verify --db s.db --checkpoint junk.note; expect_rc 1; expect_out "FINDING held.malformed"
end

begin "audit: bad usage"
run "$FW" audit; expect_rc 2
run "$FW" audit frobnicate; expect_rc 2; expect_err "unknown command 'frobnicate'"; one_line_err
run "$FW" audit --help; expect_rc 0; expect_out "verify-consistency"
end

begin "tamper: triggers refuse the sqlite3 CLI"
cp s.db t0.db
run sqlite3 t0.db "UPDATE evidence_leaves SET record = CAST('{}' AS BLOB) WHERE idx = 2;"
[ "$rc" -ne 0 ] || bad "UPDATE allowed"; expect_err "append-only"
run sqlite3 t0.db "DELETE FROM evidence_checkpoints;"
[ "$rc" -ne 0 ] || bad "DELETE allowed"; expect_err "append-only"
run "$FW" audit verify --db t0.db; expect_rc 0
end

begin "tamper: a record edited with the sqlite3 CLI is found"
sqlite3 s.db 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; cp s.db t1.db
sqlite3 t1.db "DROP TRIGGER evidence_leaves_no_update;
  UPDATE evidence_leaves SET record = CAST(replace(CAST(record AS TEXT), '\"product\":\"gw\"', '\"product\":\"xx\"') AS BLOB) WHERE idx = 2;" \
  || bad "sqlite3 failed"
[ "$(sqlite3 t1.db "SELECT count(*) FROM evidence_leaves WHERE CAST(record AS TEXT) LIKE '%\"product\":\"xx\"%'")" = 1 ] || bad "setup: no row changed"
run "$FW" audit verify --db t1.db; expect_rc 1
expect_out "^FINDING record.hash_mismatch"; expect_err "REFUSED"; one_line_err
run "$FW" audit verify --db t1.db --json; expect_rc 1; expect_out '"ok": false'; expect_out '"code": "record.hash_mismatch"'
run "$FW" audit show --db t1.db --index 2; expect_rc 0; expect_out '"product":"xx"'
"$FW" audit show --db t1.db --index 2 | tr -d '\n' > t1.rec2
run "$FW" audit verify-proof --checkpoint r2.checkpoint --proof r2.proof --record t1.rec2 --key s.db-log.pub
expect_rc 1; expect_err "REFUSED"
end

begin "tamper: a deleted record and a truncated log are found"
sqlite3 s.db 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; cp s.db t2.db; cp s.db t3.db
sqlite3 t2.db "DROP TRIGGER evidence_leaves_no_delete; DELETE FROM evidence_leaves WHERE idx = 3;"
run "$FW" audit verify --db t2.db; expect_rc 1; expect_out "^FINDING log.gap"
run "$FW" audit prove --db t2.db --index 1; [ "$rc" -ne 0 ] || bad "a proof was made from a store with a gap"
sqlite3 t3.db "DROP TRIGGER evidence_leaves_no_delete; DELETE FROM evidence_leaves WHERE idx >= 2;"
run "$FW" audit verify --db t3.db; expect_rc 1; expect_out "^FINDING log.truncated"
end

begin "tamper: history cut, regrown and re-signed with the real key: only a held checkpoint shows it"
cp s.db t4.db
# the insider cuts the log back to 3 records, restores the tree state of
# that size from a backup, drops the later checkpoints, then lets fwtrust
# itself append other history and sign it with the real log key
sqlite3 t4.db "DROP TRIGGER evidence_leaves_no_delete; DROP TRIGGER evidence_checkpoints_no_delete;
  DELETE FROM evidence_leaves WHERE idx >= 3; DELETE FROM evidence_checkpoints WHERE size > 1;
  ATTACH 'snap3.db' AS old;
  UPDATE evidence_state SET range = (SELECT range FROM old.evidence_state WHERE id = 1) WHERE id = 1;
  DELETE FROM objects WHERE json_extract(doc, '$.trusted.idx') >= 3 OR json_extract(doc, '$.added.idx') >= 3;
  UPDATE objects SET doc = json_set(doc, '$.state', 'active') WHERE json_extract(doc, '$.revoked.idx') >= 3;" || bad "sqlite3 failed"
sqlite3 t4.db "UPDATE meta SET value = '$T/s.db-log.key' WHERE key = 'log_key';"
for k in mallory zed1 zed2 zed3; do
  [ -f $k.pub ] || "$FW" key generate --alg ed25519 --out $k >/dev/null 2>&1
  "$FW" key trust $k.pub --name $k --role release-signing --db t4.db >/dev/null || bad "trust $k on t4"
done
run "$FW" audit checkpoint --db t4.db --out t4.note; expect_rc 0
[ "$(sed -n 2p t4.note)" = "$(sed -n 2p cp2.note)" ] || bad "setup: sizes $(sed -n 2p t4.note) and $(sed -n 2p cp2.note) differ"
run "$FW" audit verify --db t4.db; expect_rc 0   # the store alone agrees with itself
run "$FW" audit verify --db t4.db --checkpoint cp2.note; expect_rc 1; expect_out "^FINDING checkpoint.fork"
run "$FW" audit consistency --db t4.db --from "$(sed -n 2p cp1.note)" --out t4c.txt; expect_rc 0
run "$FW" audit verify-consistency --old cp1.note --new t4.note --proof t4c.txt --key s.db-log.pub
expect_rc 1; expect_err "REFUSED"; expect_err "rewritten"; one_line_err
end

# registry documents are mutable state: the audit replays the key and
# release records and compares (an un-revoked key, a deleted release)
begin "tamper: a revoked key made active again in the objects table is found"
sqlite3 s.db 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; cp s.db t5.db
sqlite3 t5.db "UPDATE objects SET doc = replace(doc, '\"state\":\"revoked\"', '\"state\":\"active\"') WHERE kind = 'key' AND id = '$ALICE';"
run "$FW" audit verify --db t5.db; expect_rc 1; expect_out "^FINDING registry.mismatch"
cp s.db t6.db
sqlite3 t6.db "DELETE FROM objects WHERE kind = 'release';"
run "$FW" audit verify --db t6.db; expect_rc 1; expect_out "^FINDING registry.missing"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
