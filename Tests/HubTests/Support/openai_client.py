# SPDX-License-Identifier: Apache-2.0
"""Drives the hub's /v1 API with the official `openai` package, as any OpenAI client would.

Usage: openai_client.py BASE_URL API_KEY, or openai_client.py speech BASE_URL API_KEY OUT_DIR for
the audio routes. Prints one JSON object of findings; exits 1 on a failed check (the message says
which).
"""
import json
import sys

import openai


def speech(base_url, api_key, out_dir):
    """Subcommand `speech BASE_URL API_KEY OUT_DIR`: /v1/audio/speech and /v1/audio/transcriptions.

    Writes the synthesized files into OUT_DIR (the test decodes them) and transcribes the WAV.
    """
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)
    found = {"openai_version": openai.__version__}
    for fmt in ("wav", "mp3", "flac"):
        try:
            response = client.audio.speech.create(
                model="tts-1", voice="en-us", input="hello world what time is it", response_format=fmt
            )
            path = f"{out_dir}/speech.{fmt}"
            response.write_to_file(path)
            found[f"speech_{fmt}"] = {"path": path, "content_type": response.response.headers.get("content-type")}
        except openai.APIStatusError as error:
            found[f"speech_{fmt}"] = {"status": error.status_code, "message": str(error)}
    with open(f"{out_dir}/speech.wav", "rb") as audio:
        transcript = client.audio.transcriptions.create(model="whisper-1", file=audio)
    found["transcription"] = transcript.text
    with open(f"{out_dir}/speech.wav", "rb") as audio:
        text = client.audio.transcriptions.create(model="whisper-1", file=audio, response_format="text")
    found["transcription_text"] = text if isinstance(text, str) else getattr(text, "text", str(text))
    try:
        client.audio.speech.create(model="tts-1", voice="en-us", input="", response_format="wav")
        found["empty_input"] = "no error"
    except openai.BadRequestError as error:
        found["empty_input"] = {"status": error.status_code, "param": error.param, "type": error.type}
    wrong = openai.OpenAI(base_url=base_url, api_key="wrong-key", max_retries=0, timeout=10)
    try:
        wrong.audio.speech.create(model="tts-1", voice="en-us", input="hi")
        found["speech_auth"] = "no error"
    except openai.AuthenticationError as error:
        found["speech_auth"] = {"status": error.status_code, "code": error.code, "type": error.type}
    try:
        with open(f"{out_dir}/speech.wav", "rb") as audio:
            wrong.audio.transcriptions.create(model="whisper-1", file=audio)
        found["transcription_auth"] = "no error"
    except openai.AuthenticationError as error:
        found["transcription_auth"] = {"status": error.status_code, "code": error.code, "type": error.type}
    print(json.dumps(found))


if len(sys.argv) > 1 and sys.argv[1] == "speech":
    speech(*sys.argv[2:5])
    sys.exit(0)

base_url, api_key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=10)
found = {"openai_version": openai.__version__}

models = [m.id for m in client.models.list()]
found["models"] = models

whole = client.chat.completions.create(model="model-a", messages=[{"role": "user", "content": "hello from python"}])
found["whole"] = {
    "content": whole.choices[0].message.content,
    "finish_reason": whole.choices[0].finish_reason,
    "total_tokens": whole.usage.total_tokens if whole.usage else None,
}

pieces, finish, usage, roles = [], [], None, []
for chunk in client.chat.completions.create(
    model="model-b", messages=[{"role": "user", "content": "stream please"}], stream=True, stream_options={"include_usage": True}
):
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
    for choice in chunk.choices:
        if choice.delta.role:
            roles.append(choice.delta.role)
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish.append(choice.finish_reason)
found["stream"] = {"content": "".join(pieces), "finish": finish, "usage": usage, "roles": roles}

try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    found["not_found"] = "no error"
except openai.NotFoundError as error:
    found["not_found"] = {"status": error.status_code, "code": error.code, "type": error.type, "param": error.param}

try:
    openai.OpenAI(base_url=base_url, api_key="wrong-key", max_retries=0).models.list()
    found["auth"] = "no error"
except openai.AuthenticationError as error:
    found["auth"] = {"status": error.status_code, "code": error.code}

try:
    client.chat.completions.create(model="model-a", messages=[{"role": "user", "content": "please fail"}])
    found["upstream_failure"] = "no error"
except openai.APIStatusError as error:
    found["upstream_failure"] = {"status": error.status_code, "type": error.type}

# Parameters OpenAI refuses: the hub refuses them too, with a 400 naming the parameter. Sent
# through extra_body, which goes on the wire as given (no client-side checks or coercion).
bad = {}
for name, params in [
    ("n_1000", {"n": 1000}),
    ("n_negative", {"n": -1}),
    ("max_tokens_text", {"max_tokens": "abc"}),
    ("max_tokens_fraction", {"max_tokens": 1.5}),
    ("stream_text", {"stream": "yes"}),
    ("stream_number", {"stream": 5}),
    ("temperature_text", {"temperature": "hot"}),
    ("top_p_range", {"top_p": 3}),
    ("role", {"messages": [{"role": "wizard", "content": "x"}]}),
    ("content_type", {"messages": [{"role": "user", "content": 42}]}),
]:
    try:
        client.chat.completions.create(model="model-a", messages=[{"role": "user", "content": "x"}], extra_body=params)
        bad[name] = "no error"
    except openai.BadRequestError as error:
        bad[name] = {"status": error.status_code, "param": error.param, "type": error.type}
found["bad_parameters"] = bad

print(json.dumps(found))
