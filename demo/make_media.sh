#!/usr/bin/env bash
# Generate the synthetic demo media under demo/media/ (committed to the repo).
#
#   video/  12 shots x 2 takes (gen-a, gen-b): 320x180, 24 fps, H.264/yuv420p mp4, faststart
#   audio/  10 narration lines x 2 takes (voice-a, voice-b): mono 22.05 kHz
#           Ogg Vorbis and MP3, plus one WAV and one FLAC so every format appears
#
# Everything is made from ffmpeg's lavfi test sources, espeak-ng and sox; no external
# material, so it is all CC0. File names carry the item id and the take letter
# (a/b), never the model name. Output is deterministic as far as the tools allow:
# fixed seeds, single-threaded x264, bitexact muxers, sox in repeatable mode.
#
# Usage: bash demo/make_media.sh            (re-runnable; overwrites demo/media/{video,audio})
# Needs: ffmpeg (libx264, libvorbis, libmp3lame), sox, espeak-ng.
set -euo pipefail

DEMO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$DEMO/media"
FONT="${DEMO_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}"

for tool in ffmpeg sox espeak-ng; do
    command -v "$tool" >/dev/null || { echo "make_media: $tool is required" >&2; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/dailies-media.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

FF=(ffmpeg -hide_banner -loglevel error -nostdin -y)
# Bitexact muxing + no metadata so reruns produce identical files.
FF_OUT=(-map_metadata -1 -fflags +bitexact -flags +bitexact)

# drawtext is optional: use it only when the font exists and the filter works.
HAVE_TEXT=0
if [[ -f "$FONT" ]] && "${FF[@]}" -f lavfi -i "color=c=black:s=64x36:d=0.1" \
        -vf "drawtext=fontfile=$FONT:text=ok:fontcolor=white" -f null - 2>/dev/null; then
    HAVE_TEXT=1
else
    echo "make_media: drawtext/font unavailable, making video without captions" >&2
fi

# ---------------------------------------------------------------------------------
# Video
# ---------------------------------------------------------------------------------
# id | duration | caption | rough take (a, b or -) | lavfi source (size/rate appended)
#
# The two "models" have a consistent house style so raters can tell them apart:
#   gen-a  warm grade, soft vignette, slow push-in (zoom)
#   gen-b  cool/saturated grade, slight handheld sway (rotate), harder contrast
# and per shot one take may be "rough": grain, motion stutter and ghosting, the kind
# of artefacts raters are asked to catch. alley-004 is the gold item (gen-b rough).
VIDEO_SHOTS=$(cat <<'EOF'
alley-001|3.5|SC 01  WIDE  ALLEY|b|gradients=c0=0xff2a6d:c1=0x05d9e8:c2=0x1a1a2e:n=3:speed=0.03:seed=11
alley-002|3.0|SC 02  PUSH-IN  SIGN|-|mandelbrot=start_scale=2.5:end_scale=0.6:end_pts=120:maxiter=256:inner=period
alley-003|4.0|SC 03  INSERT  MONITORS|a|testsrc2
alley-004|3.5|SC 04  CROWD  FROM ABOVE|b|life=s=160x90:mold=12:ratio=0.22:seed=404:life_color=0xffd166:death_color=0x14001e:mold_color=0x7b2cbf,scale=320:180:flags=neighbor
alley-005|3.0|SC 05  RAIN  ON GLASS|-|cellauto=s=160x90:rule=30:seed=5:ratio=0.5,scale=320:180:flags=neighbor,lutrgb=r=val*0.3:g=val*0.8:b=val
alley-006|3.5|SC 06  STAIRWELL  SPIRAL|a|gradients=c0=0xf72585:c1=0x3a0ca3:c2=0x4cc9f0:c3=0x000000:n=4:type=spiral:speed=0.05:seed=6
alley-007|4.0|SC 07  NEON  REFLECTION|b|mandelbrot=start_x=-0.7453:start_y=0.1127:start_scale=0.05:end_scale=0.005:end_pts=200:maxiter=400:outer=iteration_count
alley-008|3.0|SC 08  MARKET  STALLS|-|life=s=160x90:mold=30:ratio=0.35:seed=808:life_color=0x06d6a0:death_color=0x001219:mold_color=0xee9b00,scale=320:180:flags=neighbor
alley-009|3.5|SC 09  FIRE ESCAPE|a|cellauto=s=160x90:rule=110:seed=9:ratio=0.4,scale=320:180:flags=neighbor,lutrgb=r=val:g=val*0.45:b=val*0.2
alley-010|4.0|SC 10  HEADLIGHTS|-|gradients=c0=0xffffff:c1=0xffbe0b:c2=0xfb5607:c3=0x000000:n=4:type=radial:speed=0.04:seed=10
alley-011|3.0|SC 11  CCTV  ANGLE|b|testsrc2,hue=s=0,lutyuv=y=val*0.9
alley-012|3.5|SC 12  ROOFTOP  DAWN|-|gradients=c0=0x2b2d42:c1=0xef476f:c2=0xffd166:n=3:type=linear:speed=0.01:seed=12
EOF
)

style_filters() {  # $1 = take (a|b), $2 = rough (0|1), $3 = seed
    local take="$1" rough="$2" seed="$3" f
    if [[ "$take" == a ]]; then
        f="colorbalance=rs=0.12:gs=0.02:bs=-0.10:rh=0.10:bh=-0.08,eq=saturation=1.1"
        f+=",scale=640:360,zoompan=z='1+0.0013*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=320x180:fps=24"
        f+=",vignette=PI/5"
    else
        f="hue=h=150:s=1.35,eq=contrast=1.25:gamma=0.95"
        f+=",rotate=a='0.025*sin(2*PI*t/1.7)':c=black:ow=iw:oh=ih,scale=344:194,crop=320:180"
    fi
    if [[ "$rough" == 1 ]]; then
        f+=",fps=8,fps=24,tmix=frames=3:weights='1 2 1',noise=alls=28:allf=t+u:all_seed=$seed"
    fi
    printf '%s' "$f"
}

make_video() {
    local id dur caption rough src take seed vf n=0
    mkdir -p "$OUT/video"
    rm -f "$OUT"/video/*.mp4
    while IFS='|' read -r id dur caption rough src; do
        [[ -z "$id" ]] && continue
        n=$((n + 1))
        for take in a b; do
            seed=$((n * 10 + 1))
            [[ "$take" == b ]] && seed=$((n * 10 + 2))
            local is_rough=0
            [[ "$rough" == "$take" ]] && is_rough=1
            # split "source=opts,post,filters": give the source a rate (and a size
            # unless it sets its own low-res one that the post filters scale up)
            local head="${src%%,*}" tail=""
            [[ "$src" == *,* ]] && tail=",${src#*,}"
            [[ "$head" == *=* ]] && head+=":" || head+="="
            head+="r=24"
            [[ "$head" =~ (=|:)s= ]] || head+=":s=320x180"
            vf="$head$tail,format=yuv444p,$(style_filters "$take" "$is_rough" "$seed")"
            if [[ "$HAVE_TEXT" == 1 ]]; then
                vf+=",drawtext=fontfile=$FONT:text='$caption':fontsize=11:fontcolor=white@0.85"
                vf+=":x=8:y=h-20:box=1:boxcolor=black@0.45:boxborderw=3"
                vf+=",drawtext=fontfile=$FONT:text='%{eif\\:n\\:d\\:3}':fontsize=10"
                vf+=":fontcolor=white@0.7:x=w-tw-8:y=8"
            fi
            vf+=",setsar=1,format=yuv420p"
            "${FF[@]}" -f lavfi -i "$vf" -t "$dur" -an \
                -c:v libx264 -preset slow -threads 1 -profile:v main -pix_fmt yuv420p \
                -b:v 100k -maxrate 150k -bufsize 300k -g 48 -x264-params "ssim=0:psnr=0" \
                -movflags +faststart "${FF_OUT[@]}" "$OUT/video/$id-$take.mp4"
        done
        echo "video $id" >&2
    done <<<"$VIDEO_SHOTS"
}

# ---------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------
# id | ext a | ext b | rough take | line
#   voice-a  espeak en-us, measured pace, warm room reverb over a low hum bed
#   voice-b  espeak en-gb female variant, quicker and brighter, dry, faint air bed
# A rough take gets a telephone band-pass, overdrive and a wobble. narr-03 is gold
# (voice-b rough).
AUDIO_LINES=$(cat <<'EOF'
narr-01|ogg|ogg|-|The city never sleeps. Tonight it holds its breath.
narr-02|mp3|mp3|a|She kept the letter for eleven years.
narr-03|ogg|ogg|b|Somewhere below, the river is still moving.
narr-04|ogg|wav|-|Nobody on this street remembers the fire.
narr-05|mp3|mp3|b|Every map of the valley is wrong.
narr-06|ogg|ogg|-|He counted the steps to the door, twice.
narr-07|flac|ogg|a|The last train leaves at midnight.
narr-08|mp3|mp3|-|We built the tower to see the sea.
narr-09|ogg|ogg|b|Light travels slowly through the old glass.
narr-10|mp3|mp3|a|In the morning, the harbour was empty.
EOF
)

RATE=22050

make_audio() {
    local id ext_a ext_b rough line take ext n=0 dur
    mkdir -p "$OUT/audio"
    rm -f "$OUT"/audio/*.{ogg,mp3,wav,flac}
    while IFS='|' read -r id ext_a ext_b rough line; do
        [[ -z "$id" ]] && continue
        n=$((n + 1))
        for take in a b; do
            local raw="$TMP/$id-$take-raw.wav" voiced="$TMP/$id-$take-voiced.wav"
            local bed="$TMP/$id-$take-bed.wav" mixed="$TMP/$id-$take-mix.wav"
            local fx bedsrc
            if [[ "$take" == a ]]; then
                espeak-ng -v en-us -s 150 -p 40 -a 140 -w "$raw" "$line"
                fx=(highpass 70 lowpass 7000 reverb 30 50 70 bass +3)
                bedsrc=(synth sine 110 sine 220 vol 0.015)
                ext="$ext_a"
            else
                espeak-ng -v en-gb+f3 -s 172 -p 58 -a 140 -w "$raw" "$line"
                fx=(highpass 140 treble +5 pitch 60 compand 0.02,0.2 -60,-60,-30,-18,0,-6 0 -90 0.1)
                bedsrc=(synth pinknoise vol 0.006)
                ext="$ext_b"
            fi
            if [[ "$rough" == "$take" ]]; then
                # before the voice chain: sox 14.4.2 halves the length when
                # tremolo follows reverb
                fx=(sinc 400-3200 overdrive 18 10 tremolo 7 35 "${fx[@]}")
            fi
            sox -R -V1 "$raw" -r "$RATE" -c 1 -b 16 "$voiced" "${fx[@]}" gain -n -3 pad 0.2 0.35
            # keep every take between 2 and 4 seconds without cutting words
            dur="$(soxi -D "$voiced")"
            if awk -v d="$dur" 'BEGIN { exit !(d > 3.9) }'; then
                local factor
                factor="$(awk -v d="$dur" 'BEGIN { printf "%.3f", d / 3.85 }')"
                sox -R -V1 "$voiced" "$TMP/t.wav" tempo -s "$factor" && mv "$TMP/t.wav" "$voiced"
                dur="$(soxi -D "$voiced")"
            elif awk -v d="$dur" 'BEGIN { exit !(d < 2.1) }'; then
                sox -R -V1 "$voiced" "$TMP/t.wav" pad 0 "$(awk -v d="$dur" 'BEGIN { printf "%.3f", 2.1 - d }')"
                mv "$TMP/t.wav" "$voiced"
                dur="$(soxi -D "$voiced")"
            fi
            sox -R -V1 -n -r "$RATE" -c 1 -b 16 "$bed" "${bedsrc[@]}" trim 0 "$dur" fade t 0.15 -0 0.3
            sox -R -V1 -m "$voiced" "$bed" -b 16 "$mixed" fade t 0.02 -0 0.08 gain -n -1
            local dest="$OUT/audio/$id-$take.$ext"
            case "$ext" in
                ogg)  "${FF[@]}" -i "$mixed" -c:a libvorbis -q:a 1 "${FF_OUT[@]}" "$dest" ;;
                mp3)  "${FF[@]}" -i "$mixed" -c:a libmp3lame -b:a 48k -write_xing 0 -id3v2_version 0 \
                          "${FF_OUT[@]}" "$dest" ;;
                wav)  "${FF[@]}" -i "$mixed" -c:a pcm_s16le "${FF_OUT[@]}" "$dest" ;;
                flac) "${FF[@]}" -i "$mixed" -c:a flac -compression_level 8 "${FF_OUT[@]}" "$dest" ;;
            esac
        done
        echo "audio $id" >&2
    done <<<"$AUDIO_LINES"
}

make_video
make_audio
for d in "$OUT/video" "$OUT/audio" "$OUT"; do du -sh "$d" >&2; done
