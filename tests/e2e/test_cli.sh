#!/usr/bin/env bash
# End-to-end tests of the fwtrust CLI: the real binary, real files, real
# openssl as an independent check. Usage: tests/e2e/test_cli.sh path/to/fwtrust
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FW=$(realpath "${1:?usage: test_cli.sh FWTRUST}")
VECTORS=$(cd "$(dirname "$0")/../vectors" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2

V=fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
C=1492af14-2569-5e48-bf42-9b2d51f2ab45
head -c 300000 /dev/urandom > fw.bin

begin "help and usage"
run "$FW" --help; expect_rc 0; expect_out "key generate"
for v in "key" "sign" "verify" "inspect"; do run "$FW" $v --help; expect_rc 0; expect_out "usage: fwtrust $v"; done
run "$FW" frobnicate; expect_rc 2; expect_err "unknown command 'frobnicate'"; one_line_err
run "$FW"; expect_rc 2
run "$FW" --version; expect_rc 0; expect_out "fwtrust "
end

for alg in ed25519 p256; do
  begin "key generate $alg: 0600, key id = sha256(DER SPKI)"
  run "$FW" key generate --alg $alg --out k-$alg; expect_rc 0
  [ "$(stat -c %a k-$alg.key)" = 600 ] || bad "mode $(stat -c %a k-$alg.key)"
  want=$(openssl pkey -pubin -in k-$alg.pub -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
  [ "$out" = "$want" ] || bad "key id $out, openssl says $want"
  run "$FW" key id k-$alg.pub; [ "$out" = "$want" ] || bad "key id of .pub: $out"
  run "$FW" key id k-$alg.key; [ "$out" = "$want" ] || bad "key id of .key: $out"
  end
done

begin "key generate refuses overwrite and bad flags"
cp k-ed25519.key before.key
run "$FW" key generate --alg ed25519 --out k-ed25519; expect_rc 2; expect_err "already exists"; one_line_err
cmp -s before.key k-ed25519.key || bad "existing key was modified"
run "$FW" key generate --alg rsa --out x; expect_rc 2; expect_err "--alg: 'rsa'"; one_line_err
run "$FW" key generate --alg ed25519; expect_rc 2; expect_err "missing --out"; one_line_err
run "$FW" key generate --alg; expect_rc 2; expect_err "needs a value"; one_line_err
run "$FW" key generate --bogus; expect_rc 2; expect_err "unknown option '--bogus'"; one_line_err
[ ! -e x.key ] && [ ! -e x.pub ] || bad "files written on error"
end

sign() { run "$FW" sign --key k-$1.key --image fw.bin --vendor-id $V --class-id $C --sequence $2 --version 2.4.1 --out "$3" "${@:4}"; }

for alg in ed25519 p256; do
  begin "sign + verify round trip $alg"
  sign $alg 42 fw-$alg.suit; expect_rc 0; expect_out "envelope  fw-$alg.suit"
  [ -s fw-$alg.suit ] && [ -s fw-$alg.suit.record.json ] || bad "outputs missing"
  grep -q "\"image_sha256\": \"$(sha256sum fw.bin | cut -d' ' -f1)\"" fw-$alg.suit.record.json || bad "record image_sha256"
  grep -q "\"envelope_sha256\": \"$(sha256sum fw-$alg.suit | cut -d' ' -f1)\"" fw-$alg.suit.record.json || bad "record envelope_sha256"
  grep -q '"sequence": 42' fw-$alg.suit.record.json || bad "record sequence"
  run "$FW" verify --pub k-$alg.pub --envelope fw-$alg.suit --image fw.bin --min-sequence 41 --vendor-id $V --class-id $C
  expect_rc 0; expect_out "SHA-256 matches"; expect_out "42 > 41"
  end
done

begin "verify without --image says the image was not checked"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit; expect_rc 0; expect_out "NOT CHECKED"
end

begin "verify: any of several --pub may match"
run "$FW" verify --pub k-p256.pub --pub k-ed25519.pub --envelope fw-ed25519.suit --image fw.bin; expect_rc 0
expect_out "k-ed25519.pub"
end

begin "forgery: tampered image refused"
cp fw.bin evil.bin; flip_byte evil.bin 150000
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --image evil.bin; expect_rc 1
expect_err "image_digest_mismatch"; one_line_err
end

begin "forgery: every byte of the envelope matters"
size=$(stat -c %s fw-p256.suit); refused=0
for off in $(seq 0 $((size - 1))); do
  cp fw-p256.suit forged.suit; flip_byte forged.suit "$off"
  "$FW" verify --pub k-p256.pub --envelope forged.suit >/dev/null 2>&1
  [ $? -eq 1 ] && refused=$((refused + 1))
done
[ "$refused" -eq "$size" ] || bad "$refused of $size one-bit forgeries refused"
end

begin "forgery: signed by another key"
run "$FW" key generate --alg ed25519 --out mallory; expect_rc 0
run "$FW" sign --key mallory.key --image fw.bin --vendor-id $V --class-id $C --sequence 99 --version 9.9 --out mallory.suit; expect_rc 0
run "$FW" verify --pub k-ed25519.pub --envelope mallory.suit --image fw.bin; expect_rc 1
expect_err "unknown_key"; one_line_err
end

begin "rollback, equal sequence, reinstall"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --min-sequence 43; expect_rc 1; expect_err "rollback"; expect_err "envelope sequence 42, device sequence 43"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --min-sequence 42; expect_rc 1; expect_err "sequence_equal"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --min-sequence 42 --reinstall; expect_rc 0; expect_out "reinstall"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --reinstall; expect_rc 2; expect_err "needs --min-sequence"
end

begin "wrong vendor, class, device"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --vendor-id 00000000-0000-0000-0000-000000000001; expect_rc 1; expect_err "vendor_mismatch"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --class-id 00000000-0000-0000-0000-000000000001; expect_rc 1; expect_err "class_mismatch"
sign ed25519 50 dev.suit --device-id 11111111-2222-3333-4444-555555555555; expect_rc 0
run "$FW" verify --pub k-ed25519.pub --envelope dev.suit --device-id 11111111-2222-3333-4444-555555555556; expect_rc 1; expect_err "device_mismatch"
run "$FW" verify --pub k-ed25519.pub --envelope dev.suit --device-id 11111111-2222-3333-4444-555555555555; expect_rc 0
end

begin "sign: bad input, one line each, nothing written"
before=$(ls -A | sort | md5sum)
sign ed25519 42 out.suit --vendor-id nope; expect_rc 2; expect_err "--vendor-id: 'nope' is not a UUID"; one_line_err
sign ed25519 -1 out.suit; expect_rc 2; expect_err "--sequence"; one_line_err
sign ed25519 9223372036854775808 out.suit; expect_rc 2; expect_err "--sequence"; one_line_err
sign ed25519 1x out.suit; expect_rc 2; expect_err "--sequence"; one_line_err
run "$FW" sign --key k-ed25519.key --image missing.bin --vendor-id $V --class-id $C --sequence 1 --version 1 --out out.suit
expect_rc 2; expect_err "missing.bin"; one_line_err
run "$FW" sign --key k-ed25519.pub --image fw.bin --vendor-id $V --class-id $C --sequence 1 --version 1 --out out.suit
expect_rc 2; expect_err "k-ed25519.pub: not a PEM private"; one_line_err
run "$FW" sign --key k-ed25519.key --image fw.bin --vendor-id $V --class-id $C --sequence 1 --version "" --out out.suit
expect_rc 2; expect_err "--version"; one_line_err
run "$FW" sign --key k-ed25519.key --image fw.bin --vendor-id $V --class-id $C --sequence 1 --version 1 --out nodir/out.suit
expect_rc 2; expect_err "nodir/out.suit"; one_line_err
[ "$(ls -A | sort | md5sum)" = "$before" ] || bad "files appeared: $(ls -A)"
end

begin "options: spelled out in full, -h is help, bad text refused"
run "$FW" verify --env fw-ed25519.suit --pub k-ed25519.pub; expect_rc 2; expect_err "unknown option '--env'"; one_line_err
run "$FW" verify --envelope=fw-ed25519.suit --pub=k-ed25519.pub; expect_rc 0
run "$FW" sign -h; expect_rc 0; expect_out "usage: fwtrust sign"
run "$FW" sign -x; expect_rc 2; expect_err "unknown option '-x'"; one_line_err
run "$FW" sign --force=1; expect_rc 2; expect_err "option '--force' takes no value"; one_line_err
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.key 2>/dev/null
run "$FW" key id rsa.key; expect_rc 2; expect_err "rsa.key: key type RSA is not accepted"; one_line_err
run "$FW" sign --key k-ed25519.key --image fw.bin --vendor-id $V --class-id $C --sequence 1 --version "$(printf 'bad\377')" --out t.suit
expect_rc 2; expect_err "--version: not UTF-8"; one_line_err
run "$FW" sign --key k-ed25519.key --image fw.bin --vendor-id $V --class-id $C --sequence 1 --version "$(printf '1.0\033[2K')" --out t.suit
expect_rc 2; expect_err "control characters"
head -c 50 fw.bin > small.bin
run "$FW" key id small.bin; expect_rc 2; expect_err "small.bin: not a PEM public or private key"; one_line_err
[ ! -e t.suit ] || bad "t.suit written"
end

begin "sign refuses to overwrite unless --force"
sign ed25519 43 fw-ed25519.suit; expect_rc 2; expect_err "already exists"
sign ed25519 43 fw-ed25519.suit --force; expect_rc 0
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --min-sequence 42; expect_rc 0
end

begin "inspect text and json"
run "$FW" inspect fw-ed25519.suit; expect_rc 0; expect_out "version           2.4.1"; expect_out "not verified"
run "$FW" inspect fw-ed25519.suit --json; expect_rc 0; expect_out '"sequence": 43'; expect_out "\"vendor_id\": \"$V\""
run "$FW" inspect fw.bin; expect_rc 2; expect_err "fw.bin: "; one_line_err
run "$FW" inspect; expect_rc 2; one_line_err
end

begin "verify: bad inputs"
run "$FW" verify --envelope fw-ed25519.suit; expect_rc 2; expect_err "missing --pub"
run "$FW" verify --pub nope.pub --envelope fw-ed25519.suit; expect_rc 2; expect_err "nope.pub"; one_line_err
run "$FW" verify --pub k-ed25519.pub --envelope nope.suit; expect_rc 2; expect_err "nope.suit"; one_line_err
run "$FW" verify --pub k-ed25519.pub --envelope fw.bin; expect_rc 2; expect_err "fw.bin"; one_line_err
head -c 100 fw.bin > junk.suit
run "$FW" verify --pub k-ed25519.pub --envelope junk.suit; expect_rc 1; expect_err "REFUSED junk.suit"; one_line_err
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --image nope.bin; expect_rc 2; expect_err "nope.bin"
run "$FW" verify --pub k-ed25519.pub --envelope fw-ed25519.suit --min-sequence x; expect_rc 2; expect_err "--min-sequence"
end

begin "draft example 0 verifies, and not after a change"
run "$FW" verify --pub "$VECTORS/suit-example0.pub.pem" --envelope "$VECTORS/suit-example0.suit" --vendor-id $V --class-id $C
expect_rc 0
cp "$VECTORS/suit-example0.suit" ex.suit; flip_byte ex.suit 200
run "$FW" verify --pub "$VECTORS/suit-example0.pub.pem" --envelope ex.suit; expect_rc 1; expect_err "manifest_digest_mismatch"
end

echo "RESULT $pass $fail"
[ "$fail" -eq 0 ]
