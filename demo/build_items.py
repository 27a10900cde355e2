#!/usr/bin/env python3
"""Write the demo item files demo/items/{video,audio,scripts}.jsonl.

The JSONL files are committed; this script is how they were made (re-run it after
editing the tables below: ``python3 demo/build_items.py``). Output is deterministic.
Media paths are relative to demo/media/ and must match demo/make_media.sh.
"""

from __future__ import annotations

import json
from pathlib import Path

DEMO = Path(__file__).resolve().parent
ITEMS = DEMO / "items"

RIGHTS = {
    "rights_holder": "Dailies demo (synthetic)",
    "license": "CC0-1.0",
}


def provenance(model_version: str, params: dict, consent: str = "granted",
               consent_ref: str = "demo-synthetic") -> dict:
    return {
        "model_version": model_version,
        "generation_params": params,
        **RIGHTS,
        "consent": consent,
        "consent_ref": consent_ref,
    }


# --------------------------------------------------------------------------- video
# id, scene, shot, duration (s), lavfi source, expertise, model_confidence, brief
VIDEO = [
    ("alley-001", 1, "wide", 3.5, "gradients", ["cinematography"], 0.93,
     "Wide establishing shot: a rain-slick alley at night, neon signs in pink and cyan "
     "bleeding into puddles. Locked-off camera, slow colour drift, no cuts."),
    ("alley-002", 2, "push-in", 3.0, "mandelbrot", ["cinematography", "vfx"], 0.18,
     "Slow push-in on the broken neon sign above the noodle bar; the sign's pattern "
     "should resolve into detail as we get closer. One smooth move."),
    ("alley-003", 3, "insert", 4.0, "testsrc2", ["editing"], 0.71,
     "Insert: a wall of security monitors in the fixer's booth, one feed glitching "
     "as the runner passes. Hold for a beat before the cut."),
    ("alley-004", 4, "top shot", 3.5, "life", ["cinematography", "vfx"], 0.64,
     "Top shot from a drone: the crowd in the night market parts as the runner "
     "pushes through. Organic movement, no strobing, stable frame."),
    ("alley-005", 5, "texture", 3.0, "cellauto", ["vfx"], 0.10,
     "Texture plate: rain streaking down the diner window, cold blue light from "
     "the street. Continuous downward motion, to be composited behind the actors."),
    ("alley-006", 6, "tracking", 3.5, "gradients:spiral", ["cinematography"], 0.82,
     "Looking straight up a spiral stairwell as the pursuer climbs; magenta and "
     "violet practicals. The rotation should feel steady and deliberate."),
    ("alley-007", 7, "close-up", 4.0, "mandelbrot", ["vfx"], 0.55,
     "Extreme close-up of a neon reflection in a puddle, rippling as footsteps land. "
     "Rich, saturated colour; keep fine detail crisp."),
    ("alley-008", 8, "wide", 3.0, "life", ["editing", "cinematography"], 0.27,
     "High wide over the market stalls, warm lantern light; the runner is a speck "
     "moving left to right. Needs to cut against scene 4 without a jump in colour."),
    ("alley-009", 9, "handheld", 3.5, "cellauto", ["cinematography"], 0.48,
     "Handheld on the fire escape: rusted ironwork lit orange by a sodium lamp, "
     "the camera climbing with the runner. Energetic but readable."),
    ("alley-010", 10, "reveal", 4.0, "gradients:radial", ["vfx", "editing"], 0.35,
     "Headlights flare at the end of the alley and bloom towards camera. A single "
     "light source; the flare should grow, not flicker."),
    ("alley-011", 11, "pov", 3.0, "testsrc2:mono", ["editing"], 0.97,
     "CCTV point of view, black and white, timecode burned in: the runner crosses "
     "frame. Static camera; it should look like security footage, not film."),
    ("alley-012", 12, "wide", 3.5, "gradients", ["cinematography", "editing"], 0.22,
     "Rooftop at dawn, the chase over: a slow gradient from night blue to warm gold "
     "across the skyline. Calm, almost still. Last shot of the sequence."),
]
VIDEO_GOLD = {"alley-004": {"choice": "a"}}
VIDEO_REVOKED = ("alley-009", "gen-b", "demo-synthetic/withdrawal-2026-05-14")
VIDEO_MODELS = (
    ("gen-a", "a", "2026-06", {"grade": "warm", "camera": "push-in"}),
    ("gen-b", "b", "2026-05-rc2", {"grade": "cool", "camera": "handheld-sway"}),
)


def video_rows() -> list[dict]:
    rows = []
    for n, (ext_id, scene, shot, dur, source, expertise, conf, prompt) in enumerate(VIDEO, 1):
        outputs = []
        for model, take, version, style in VIDEO_MODELS:
            consent, ref = "granted", "demo-synthetic"
            if (ext_id, model) == VIDEO_REVOKED[:2]:
                consent, ref = "revoked", VIDEO_REVOKED[2]
            params = {"seed": n * 10 + (1 if take == "a" else 2), "source": f"lavfi:{source}",
                      "duration_s": dur, "fps": 24, "resolution": "320x180", **style}
            outputs.append({
                "model": model,
                "asset": {"path": f"video/{ext_id}-{take}.mp4"},
                "provenance": provenance(version, params, consent, ref),
            })
        row = {"external_id": ext_id, "prompt": prompt, "outputs": outputs,
               "model_confidence": conf, "expertise": expertise}
        if ext_id in VIDEO_GOLD:
            row["gold"] = VIDEO_GOLD[ext_id]
        row["metadata"] = {"scene": scene, "shot": shot, "sequence": "Neon Alley"}
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- audio
# id, extension of take a, of take b, model_confidence, direction, line
AUDIO = [
    ("narr-01", "ogg", "ogg", 0.41, "Opening line of the trailer. Low, unhurried, a hint of menace.",
     "The city never sleeps. Tonight it holds its breath."),
    ("narr-02", "mp3", "mp3", 0.76, "Intimate, close to the mic, as if sharing a secret.",
     "She kept the letter for eleven years."),
    ("narr-03", "ogg", "ogg", 0.62, "Calm and clear over an establishing shot of the river.",
     "Somewhere below, the river is still moving."),
    ("narr-04", "ogg", "wav", 0.15, "Matter-of-fact, slightly weary; documentary register.",
     "Nobody on this street remembers the fire."),
    ("narr-05", "mp3", "mp3", 0.91, "Confident, with a lift at the end to lead into the title card.",
     "Every map of the valley is wrong."),
    ("narr-06", "ogg", "ogg", 0.33, "Tense, quiet; let the pause before 'twice' land.",
     "He counted the steps to the door, twice."),
    ("narr-07", "flac", "ogg", 0.58, "Wistful; this line plays over the final train leaving.",
     "The last train leaves at midnight."),
    ("narr-08", "mp3", "mp3", 0.24, "Warm and proud, a founder's story.",
     "We built the tower to see the sea."),
    ("narr-09", "ogg", "ogg", 0.47, "Slow, reflective; leave air after 'slowly'.",
     "Light travels slowly through the old glass."),
    ("narr-10", "mp3", "mp3", 0.69, "Flat and stark; the closing line before the credits.",
     "In the morning, the harbour was empty."),
]
AUDIO_GOLD = {"narr-03": {"choice": "a"}}
AUDIO_PENDING = ("narr-06", "voice-b", "demo-synthetic/release-form-awaiting-signature")
AUDIO_MODELS = (
    ("voice-a", "a", "2026-06", {"voice": "en-us", "rate_wpm": 150, "pitch": 40, "room": "reverb"}),
    ("voice-b", "b", "2026-04", {"voice": "en-gb+f3", "rate_wpm": 172, "pitch": 58, "room": "dry"}),
)


def audio_rows() -> list[dict]:
    rows = []
    for n, (ext_id, ext_a, ext_b, conf, direction, line) in enumerate(AUDIO, 1):
        outputs = []
        for model, take, version, voice in AUDIO_MODELS:
            consent, ref = "granted", "demo-synthetic"
            if (ext_id, model) == AUDIO_PENDING[:2]:
                consent, ref = "pending", AUDIO_PENDING[2]
            ext = ext_a if take == "a" else ext_b
            params = {"seed": 100 + n * 10 + (1 if take == "a" else 2), **voice,
                      "sample_rate": 22050, "channels": 1, "format": ext}
            outputs.append({
                "model": model,
                "asset": {"path": f"audio/{ext_id}-{take}.{ext}"},
                "provenance": provenance(version, params, consent, ref),
            })
        row = {"external_id": ext_id, "prompt": f"\u201c{line}\u201d \u2014 {direction}",
               "outputs": outputs, "model_confidence": conf, "expertise": ["sound"]}
        if ext_id in AUDIO_GOLD:
            row["gold"] = AUDIO_GOLD[ext_id]
        row["metadata"] = {"line": line, "direction": direction, "cue": n}
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- scripts
# Ten short scenes of deliberately varied quality (see the notes; they are not in the
# item metadata so raters are not primed):
#   01 strong            02 on-the-nose dialogue     03 continuity errors
#   04 gold: solid, dialogue a little on-the-nose    05 strong
#   06 cliche, no turn   07 incoherent (name change, impossible action)
#   08 strong            09 flat, no conflict        10 abandons its own set-up
SCRIPTS = [
    ("script-01", 0.88,
     "Two estranged sisters meet in their late father's hardware store to decide "
     "whether to sell it. Play it on subtext; neither says what she feels.",
     """INT. HALVORSEN HARDWARE - NIGHT

Fluorescent tubes buzz over half-empty shelves. RUTH (50s), coat still on, counts keys on a pegboard. DANA (40s) comes in out of the rain. The door bell jangles.

DANA
You kept the bell.

RUTH
(not turning)
Dad fixed it every winter. Only thing in here that works.

Dana lays an envelope on the counter. A realtor's logo.

DANA
They'll take the stock too. Every nail.

RUTH
He knew every nail.

Ruth turns. She holds up a brass key, tagged in their father's hand: DANA.

RUTH (CONT'D)
He cut you one. In case.

Dana looks at the key a long time. She doesn't take it.

DANA
Sign it, Ruthie.

The bell jangles as she leaves. Ruth hangs the key back on its hook."""),
    ("script-02", 0.31,
     "A night-shift nurse realises the patient in bed 4 is the driver who ran her "
     "off the road years ago. Keep the reveal quiet and restrained.",
     """INT. ST. ANNE'S HOSPITAL - WARD 3 - NIGHT

Nurse KEMI ADEYEMI (30s) checks the chart at bed 4. MR. COLE (60s) is awake.

KEMI
Hello Mr. Cole. I am your nurse tonight. My name is Kemi.

COLE
Hello. I am feeling okay.

Kemi reads the chart. She gasps.

KEMI
(shocked)
Oh no. You are the man who ran me off the road eight years ago and drove away, which is why I have a limp and why I became a nurse.

COLE
Yes. That was me. I am very sorry about that.

KEMI
I am very angry about that.

COLE
I understand that you are angry.

Kemi checks his drip. She is angry."""),
    ("script-03", 0.44,
     "The getaway driver of a heist crew refuses to start the car. Night, a "
     "multi-storey car park, sirens getting closer.",
     """EXT. MULTI-STOREY CAR PARK - LEVEL 4 - NIGHT

A grey sedan idles by the ramp. LOU (40s) grips the car keys in his fist so hard his knuckles whiten.

VERA (30s), clutching a duffel, TOMMY (20s) and PIKE (50s) pile in.

VERA
Drive.

LOU
I can't.

PIKE
(leaning forward)
The engine's running, Lou.

LOU
My daughter's prom is tonight. I promised her.

Low sunlight glares through the windscreen. Lou squints.

TOMMY
You told us three weeks ago. We planned around it.

VERA
Where are the keys?

Lou pats his pockets. Nothing. Sirens, distant. Vera throws the duffel into the boot. It is still in her lap.

PIKE
Lou. Start the car.

Lou turns the key. The engine roars to life."""),
    ("script-04", 0.57,
     "A job interview that turns out to be the interviewer's own last day. Keep it "
     "under a page; end on a decision.",
     """INT. BRIGHTLINE LOGISTICS - GLASS MEETING ROOM - DAY

Last quarter's targets are still on the whiteboard. GRAHAM PEARCE (50s), tie loosened, faces ALISHA MONROE (20s), polished, CV in hand.

GRAHAM
So. Why Brightline?

ALISHA
I want to work somewhere that values loyalty.

Graham laughs, a beat too long.

GRAHAM
Twenty-two years. They told me this morning. I'm doing this as a favour.

ALISHA
(uncertain)
Should I come back another time?

GRAHAM
No. Ask me something. Anything.

ALISHA
What's the hardest part of the job?

Through the glass, a man from IT is boxing up a monitor.

GRAHAM
Knowing when it's over.

He slides her CV back across the table. Stops. Pulls it back.

GRAHAM (CONT'D)
You start Monday. Take my desk. The chair's good."""),
    ("script-05", 0.93,
     "A boy and his grandfather fix an old radio during a blackout. Reveal, without "
     "saying it, that the grandfather was once an air-traffic controller.",
     """INT. WALT'S KITCHEN - NIGHT

Blackout. One candle. WALT (80s) and his grandson NICO (10) hunch over a gutted transistor radio, its screws lined up on a saucer.

NICO
How do you know which wire?

WALT
You don't. You listen.

He touches two leads together. Static. Nico gasps.

WALT (CONT'D)
(easing the dial round)
Not yet. Keep the light still.

Nico steadies the candle. Through the hiss, a calm voice: call signs, a runway, a wind check.

Walt's lips move with the call signs a half-second before the voice says them.

NICO
You know them.

WALT
(beat)
I used to answer them.

The lights snap back on. The fridge hums. Walt switches the radio off and starts putting the screws away.

NICO
Can we leave it on?

Walt hesitates. Turns it back on."""),
    ("script-06", 0.22,
     "A detective confronts a suspect in a roadside diner. The suspect should "
     "gain the upper hand by the end of the scene.",
     """INT. ROADSIDE DINER - NIGHT

Rain on the window. DETECTIVE JACK STONE (40s), trench coat, sits across from EDDIE VANCE (30s).

STONE
Where were you on the night of the murder?

EDDIE
I don't know nothing about no murder.

STONE
Don't play games with me, Eddie. I've been doing this for twenty years.

EDDIE
I want a lawyer.

STONE
You're going to need more than a lawyer.

A WAITRESS refills their cups.

WAITRESS
More coffee?

STONE
Thanks. We're not done here, Eddie.

EDDIE
I already told you everything I know.

Stone stares at him. Eddie stares back."""),
    ("script-07", 0.12,
     "An astronaut alone on a failing space station records a final message for "
     "her son. Zero gravity; life support is running out.",
     """INT. ORBITAL STATION KESTREL - COMMAND MODULE - CONTINUOUS

Red emergency light. Commander MAYA OKAFOR (40s) floats before the camera, one hand on a cracked console.

MAYA
(recording)
This is Commander Okafor. Day three hundred and twelve. Life support is at nine percent.

She pushes off towards the porthole. Earth fills the glass.

MARA
(she looks at Earth and remembers her son's birthday party in the garden last summer, then turns back to the camera)
Tell Sam I kept the drawing.

An ALARM blares. She ignores it, then sprints down the corridor.

MAYA
Houston, we are go for launch.

She smiles at the camera. Life support is at forty percent.

MAYA (CONT'D)
Okafor out."""),
    ("script-08", 0.81,
     "Dinner rush in a small restaurant kitchen. The sous-chef has a job offer "
     "elsewhere; the head chef knows. Nobody stops working.",
     """INT. OSTERIA LUNA - KITCHEN - NIGHT

Dinner rush. Tickets chatter out of the printer. Sous-chef BEA (30s) plates risotto at speed. Head chef ANTON (60s) wipes the rim of every plate she finishes.

ANTON
Nine. Where's nine?

BEA
Walking.

She slides two plates to the pass. He wipes. She is already on the next.

ANTON
You're rushing the rice.

BEA
I'm keeping up with you.

ANTON
(without looking up)
Who called you last night? Half an hour in the walk-in.

Bea's spoon stops. One second.

BEA
Someone who wants me to run my own pass.

Anton plates the last risotto himself. Wipes the rim. Slides it across to her.

ANTON
Then stop letting me wipe your plates.

Bea takes the cloth from his shoulder.

BEA
Nine, walking!"""),
    ("script-09", 0.36,
     "A first date in a launderette. Something unexpected should happen that "
     "shows who each of them really is.",
     """INT. SUDSY'S LAUNDERETTE - DAY

PRIYA (20s) and OWEN (20s) sit on plastic chairs in front of dryer six.

OWEN
So this is nice.

PRIYA
Yeah. It's nice.

OWEN
Do you come here a lot?

PRIYA
Sometimes. When my machine is broken. It's broken now.

OWEN
Oh. That's too bad.

PRIYA
Yeah.

They watch the dryer.

OWEN
Do you like films?

PRIYA
Some films. Do you?

OWEN
Yeah. I like some films too.

The dryer buzzes. Priya takes out her clothes.

PRIYA
Well. This was nice."""),
    ("script-10", 0.49,
     "A ferry captain refuses to sail into a storm while stranded passengers, each "
     "with a reason to cross tonight, demand she go. She must make a choice.",
     """EXT. FERRY MARGIT - GANGWAY - DAY

A storm front rolls in over the sound. Passengers crowd the gangway. CAPTAIN ILSE BRANDT (50s) blocks it with her body.

ILSE
Nobody boards. Not until the front passes.

A BUSINESSMAN (40s) waves his ticket.

BUSINESSMAN
I have a funeral at four. My mother's.

ILSE
Then I'll get you there alive for it. Tomorrow.

A murmur. A GIRL (16) with a cello case pushes to the front.

GIRL
My audition's tonight. There's no tomorrow for it.

Ilse looks up at the sky. Moonlight breaks through the clouds.

INT. FERRY TERMINAL - CAFE - DAY

The businessman drinks coffee alone.

THE END."""),
]
SCRIPT_GOLD = {"script-04": {"scores": {"coherence": 4, "dialogue": 3, "structure": 4}}}
# A script whose writer withdrew consent: it is kept out of routing, statistics and exports.
SCRIPT_REVOKED = ("script-07", "demo-synthetic/writer-withdrew-2026-10-30")


def script_rows() -> list[dict]:
    rows = []
    for n, (ext_id, conf, prompt, text) in enumerate(SCRIPTS, 1):
        model = "scribe-1" if n % 2 else "scribe-2"
        version = "2026-06" if model == "scribe-1" else "2026-03"
        params = {"seed": 300 + n, "temperature": 0.8 if model == "scribe-1" else 1.0,
                  "max_tokens": 900, "format": "screenplay"}
        consent = ("revoked", SCRIPT_REVOKED[1]) if ext_id == SCRIPT_REVOKED[0] else ("granted", "demo-synthetic")
        row = {"external_id": ext_id, "prompt": prompt,
               "outputs": [{"model": model, "text": text,
                            "provenance": provenance(version, params, *consent)}],
               "model_confidence": conf, "expertise": ["screenwriting"]}
        if ext_id in SCRIPT_GOLD:
            row["gold"] = SCRIPT_GOLD[ext_id]
        row["metadata"] = {"scene_no": n, "pages": 1}
        rows.append(row)
    return rows


def write(name: str, rows: list[dict]) -> None:
    ITEMS.mkdir(exist_ok=True)
    with open(ITEMS / name, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {ITEMS / name}: {len(rows)} items")


if __name__ == "__main__":
    write("video.jsonl", video_rows())
    write("audio.jsonl", audio_rows())
    write("scripts.jsonl", script_rows())
