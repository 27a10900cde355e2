"""Rationale suites for the effort rules: honest rationales a careful expert would write about
the demo items (they must all pass), and the rubber-stamp patterns of issue 7 (each must be
refused). ``HONEST``: (rater, external id, rationale), in the order each rater wrote them, so a
rater's earlier ones are compared with their later ones as in live rating.
"""
from __future__ import annotations

HONEST = [
    ("editor", "alley-001", "The right take holds the frame dead still as the brief asks; the left one creeps forward, which reads as a push-in and breaks the locked-off wide."),
    ("editor", "alley-002", "Left resolves the sign's tube pattern around frame 60 and the move never hitches; the right move jolts twice and the letters stay mushy until the end."),
    ("editor", "alley-003", "Both hold on the monitors, but only the right one glitches a single feed; on the left every screen shimmers at once, so the runner's pass means nothing."),
    ("editor", "alley-005", "For a comp plate I need steady downward streaks: the left rain drifts sideways halfway through and the blue goes teal, the right stays consistent and cold."),
    ("editor", "alley-006", "Rotation on the left is even from start to finish; the right take speeds up near frame 40 and the violet practical pops from nowhere, which would never cut."),
    ("editor", "alley-007", "The right puddle keeps the fine ripples crisp and the magenta saturated, while the left smears the reflection into a soft blob whenever the footsteps land."),
    ("editor", "alley-008", "Warm lanterns on the left match scene four, so the cut will be invisible; the right grade pushes cyan into the stalls and would jump on the cut."),
    ("editor", "alley-010", "I'd call it a tie: both flares bloom smoothly from a single source, and each has a faint pulse in the last half second that I can live with."),
    ("editor", "alley-012", "The left gradient moves from blue to gold without banding and the skyline barely breathes, exactly the calm last shot; the right sways like handheld, wrong for a closer."),
    ("editor", "alley-004", "Crowd motion on the right strobes every few frames and the frame edge wobbles, whereas the left parts organically around the runner with a stable top shot."),
    ("colourist", "alley-001", "Colour drift is the point here and only the left take drifts slowly between pink and cyan; the right one holds one cold grade and adds sway the brief forbids."),
    ("colourist", "alley-007", "Saturation is richer in the left reflection, yet its ripples ghost for several frames; I still prefer it because the right one clips the highlights to white."),
    ("colourist", "alley-012", "Neither sky reaches a true warm gold, but the right one at least lifts out of night blue by the final second; the left stays murky and flat."),
    ("colourist", "alley-011", "Both read as security footage, but the left has a jittering timecode that looks pasted on, while the right burn-in sits still in the corner like a real DVR."),
    ("sound", "narr-01", "The right voice lands the menace: low, unhurried, and the pause after 'sleeps' lets the line breathe. The left rushes 'tonight' and sounds bright."),
    ("sound", "narr-02", "Left is close and intimate, exactly the secret the direction wants; right sits far back in a reverberant room and the word 'eleven' gets lost in the tail."),
    ("sound", "narr-03", "The left take is calm and clear over a low hum that will sit under picture; the right take has a telephone band-pass that makes 'river' sound thin and boxed."),
    ("sound", "narr-04", "Matter-of-fact suits the right delivery, slightly tired on 'remembers'; the left pushes the line like an advert and the overdrive crackles on 'fire'."),
    ("sound", "narr-05", "Only the left lifts at the end into the title card; the right falls in pitch on 'wrong', which closes the thought instead of leading us on."),
    ("sound", "narr-06", "The pause before 'twice' is the whole line and the right take gives it almost a full second; the left runs straight through and loses the tension."),
    ("sound", "narr-07", "Wistful is hard for a synthetic voice; the left one manages a softer attack on 'midnight', while the right one clips the final consonant abruptly."),
    ("sound", "narr-08", "Neither take sounds proud. I'd say tie, but the left warble on 'tower' is the bigger problem, so I lean slightly to the right for the mix."),
    ("sound", "narr-09", "Air after 'slowly' is there on the right, a clean gap before 'through'; the left crams the words together and the tremolo makes the glass sound wobbly."),
    ("sound", "narr-10", "For a closing line before the credits the left is properly flat and stark; the right adds an upward inflection on 'empty' that asks a question."),
    ("writer", "script-01", "The sisters talk about paint tins and the till float while the sale hangs unspoken; the subtext works, although the last exchange explains a little too much."),
    ("writer", "script-02", "The nurse states outright that he ran her off the road, which kills the restraint the brief asked for; the recognition should play on her hands, not in dialogue."),
    ("writer", "script-03", "Sirens escalate line by line and the driver's refusal comes with a real reason revealed late. The car park geography is clear throughout the scene."),
    ("writer", "script-04", "It stays under a page and ends on the candidate choosing to walk out, but the interviewer's last-day reveal is told in a speech rather than discovered."),
    ("writer", "script-05", "The grandfather's call signs and runway talk reveal his past without a word of exposition; lovely. The blackout logic slips when the lamp works mid-scene."),
    ("writer", "script-06", "The detective holds the power until the very last line, so the brief's reversal never happens; the suspect only gets a sarcastic button, not the upper hand."),
    ("writer", "script-07", "Zero gravity is forgotten: she sets a cup down on the console. The message to her son is moving, but the continuity break pulled me out twice."),
    ("writer", "script-08", "Everyone keeps working, orders fly, and the job offer surfaces through who gets the good knife; the dialogue carries it without anyone naming it."),
    ("writer", "script-09", "The dryer eating the sock is the unexpected event, and both react in character; still, the launderette owner appears from nowhere and then vanishes."),
    ("editor", "alley-009", "The right take climbs with the runner and the ironwork stays readable in the orange light; the left shakes so hard the rungs turn to mush."),
    ("colourist", "alley-002", "The left push-in is one smooth move and the sign's pattern resolves into detail as we get closer; the right hitches twice and stays soft."),
    ("mixer", "narr-01", "Low and unhurried with real menace on the right, and the pause after 'sleeps' is lovely; the left is too bright and hurried on 'tonight'."),
    ("writer", "script-10", "Each passenger gets one clear reason to cross, the captain's no holds, and her final decision to sail alone with the mail sacks lands as a real choice."),
]

# The brief of alley-002, for the "brief with a prefix" pattern.
BRIEF = ("Slow push-in on the broken neon sign above the noodle bar; the sign's pattern should resolve "
         "into detail as we get closer. One smooth move.")
LEVEL_3 = ("Clear on the whole, with one or two slips (a prop, a time of day, a character's position) "
           "that a single pass would fix.")
PREVIOUS = HONEST[1][2]  # the rater's earlier rationale the copies start from

# (name, rationale, earlier own rationales, other raters' rationales on the item)
RUBBER_STAMPS = [
    ("one filler word to the minimum", "good " * 12, [], []),
    ("two filler words alternating", "good fine " * 6, [], []),
    ("filler with a run", "ok ok ok ok ok ok the left one is fine for me", [], []),
    ("few distinct words", "left is good and left is good and right is bad ok", [], []),
    ("previous with sides swapped", PREVIOUS.replace("Left", "TMP").replace("right", "left").replace("TMP", "Right"),
     [PREVIOUS], []),
    ("previous with one word changed", PREVIOUS.replace("mushy", "blurry"), [PREVIOUS], []),
    ("previous with two words changed", PREVIOUS.replace("mushy", "blurry").replace("twice", "once"), [PREVIOUS], []),
    ("previous with model names", PREVIOUS.replace("Left", "gen-a").replace("right", "gen-b"), [PREVIOUS], []),
    ("previous upper-cased", PREVIOUS.upper(), [PREVIOUS], []),
    ("the brief with a prefix", "I think the right one is better because: " + BRIEF, [], []),
    ("the brief verbatim", BRIEF, [], []),
    ("the rubric's level description", "Score 3: " + LEVEL_3, [], []),
    ("another rater's rationale", "take A keeps the light source in one place while take B lets the neon flicker between frames",
     [], ["take B keeps the light source in one place while take A lets the neon flicker between frames"]),
    ("another rater's rationale with a prefix", "Agreed, basically: " + HONEST[0][2], [], [HONEST[0][2]]),
]

# Editors who explain with time-coded notes and a short summary (issue 10): (rater, external id,
# summary, note texts). Each must pass: the notes count as rationale text.
HONEST_WITH_NOTES = [
    ("editor", "alley-002", "Left delivers the push-in.",
     ["Sign's tubes resolve into letters here, no hitch in the move.",
      "Right jolts on this frame and the lettering stays mushy."]),
    ("editor", "alley-005", "Right for the comp plate.",
     ["Left rain starts drifting sideways from here.", "Blue shifts to teal on the left through this stretch."]),
    ("colourist", "alley-008", "Left matches scene four.",
     ["Warm lanterns hold their amber.", "Right pushes cyan into the stalls right at the cut point."]),
    ("sound", "narr-01", "Right lands the menace.",
     ["Pause after 'sleeps' lets the line breathe.", "Left rushes 'tonight', bright and thin."]),
    ("sound", "narr-06", "Right, for the silence.",
     ["Held beat before the key word, the suspense builds.", "Left voice never stops for air at this point."]),
    ("writer", "script-07", "Continuity break decides it.",
     ["She sets a cup down on the console in zero gravity.", "The message to her son lands, but this pulled me out."]),
]

# Notes that pretend to explain (each must be refused): (name, summary, note texts).
NOTE_STAMPS = [
    ("one note pasted five times", "Right is better.", ["Bad motion here on the left side."] * 5),
    ("pasted with sides swapped", "Left wins.", ["The right one stutters badly here.", "The left one stutters badly here.",
                                                "The right one stutters badly here."]),
    ("one-word notes", "Left.", ["bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad", "bad"]),
    ("filler notes", "ok", ["good good good", "good", "fine fine"]),
    ("the brief as notes", "Right.", [BRIEF]),
]
