"""Photo uploads (limits, checks, analysis, viewer), tokens, sign-in limits and CSRF."""

from __future__ import annotations

from web_helpers import NEW_PATIENT, PASSWORD, png_bytes

from dermatrack.services import photos


def _patient(web) -> str:
    return web.client("clinician").post("/api/patients", json=NEW_PATIENT).json()["id"]


def test_uploads_are_limited_checked_and_nothing_is_stored_when_refused(web):
    client = web.client("clinician")
    pid = _patient(web)
    url = f"/api/patients/{pid}/photos"
    web.app.state.max_upload_bytes = 20_000
    big = client.post(url, files={"image": ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 30_000,
                                            "image/png")})
    assert big.status_code == 413
    web.app.state.max_upload_bytes = 5_000_000
    text = client.post(url, files={"image": ("notes.txt", b"hello", "text/plain")})
    assert text.status_code == 415
    fake = client.post(url, files={"image": ("fake.png", b"GIF89a not a png", "image/png")})
    assert fake.status_code == 422
    assert fake.json()["detail"][0]["loc"] == ["body", "image"]
    truncated = client.post(url, files={"image": ("cut.png", png_bytes()[:200], "image/png")})
    assert truncated.status_code == 422
    assert truncated.json()["detail"][0]["loc"] == ["body", "image"]
    assert photos.list_photos(web.store, pid) == []
    assert web.client("reception").post(
        url, files={"image": ("a.png", png_bytes(), "image/png")}).status_code == 403


def test_a_body_declared_too_large_is_refused_before_it_is_read(web):
    client = web.client("clinician")
    pid = _patient(web)
    web.app.state.max_upload_bytes = 20_000
    huge = client.post(f"/api/patients/{pid}/photos",
                       files={"image": ("huge.png", png_bytes() + b"0" * 200_000, "image/png")})
    assert huge.status_code == 413
    assert huge.json()["detail"].startswith("the request body is larger than the limit")
    assert huge.headers["x-content-type-options"] == "nosniff"
    assert photos.list_photos(web.store, pid) == []
    # A small body still reaches the route (and its own checks).
    web.app.state.max_upload_bytes = 5_000_000
    assert client.post(f"/api/patients/{pid}/photos", data={"close_up": "true"},
                       files={"image": ("a.png", png_bytes(), "image/png")}).status_code == 201


def test_two_photos_are_analysed_shown_and_compared(web):
    client = web.client("clinician")
    pid = _patient(web)
    url = f"/api/patients/{pid}/photos"
    # A face photograph is the default: this pattern has no face, so it is refused, and
    # accepted as a close-up of skin.
    refused = client.post(url, files={"image": ("before.png", png_bytes(seed=1), "image/png")})
    assert refused.status_code == 422 and "no face found" in refused.text
    first = client.post(url, data={"close_up": "true"},
                        files={"image": ("before.png", png_bytes(seed=1), "image/png")})
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["metrics"] and {m["kind"] for m in answer["metrics"]} == {"photo"}
    second = client.post(url, data={"close_up": "true"},
                         files={"image": ("after.png", png_bytes(seed=2, shift=3),
                                          "image/png")}).json()
    listed = client.get(url).json()
    assert [p["id"] for p in listed] == [answer["photo"]["id"], second["photo"]["id"]]
    a, b = answer["photo"]["id"], second["photo"]["id"]
    image = client.get(f"{url}/{a}/image")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    metrics = client.get(f"{url}/{a}/metrics").json()
    assert len(metrics) == len(answer["metrics"])
    for layer in ("baseline", "aligned", "change"):
        response = client.get(f"{url}/{a}/compare/{b}/{layer}.png")
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG"), layer
    assert client.get(f"{url}/{a}/compare/{b}/other.png").status_code == 404
    assert client.get(f"{url}/PH-0000000000/image").status_code == 404
    assert web.client("reception").get(f"{url}/{a}/image").status_code == 403
    assert web.client("researcher").get(f"{url}/{a}/image").status_code == 403


def test_token_endpoint_follows_the_oauth2_password_flow(web):
    client = web.client()
    wrong = client.post("/api/token", data={"username": "clinician1", "password": "nope"})
    assert wrong.status_code == 401
    issued = client.post("/api/token", data={"username": "clinician1", "password": PASSWORD})
    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/patients", headers=headers).status_code == 200
    web.client("admin").put("/api/users/clinician1/active", json={"active": False})
    assert client.get("/api/patients", headers=headers).status_code == 401
    assert client.post("/api/token", data={"username": "clinician1",
                                           "password": PASSWORD}).status_code == 401


def test_expired_tokens_are_refused(web, monkeypatch):
    from dermatrack.web import security

    token = web.app.state.signer.api_token("clinician1")
    monkeypatch.setattr(security, "TOKEN_MAX_AGE_S", -1)
    response = web.client().get("/api/patients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_failed_sign_ins_are_rate_limited_per_username_and_address(web):
    client = web.client()
    for _ in range(5):
        assert client.post("/api/token", data={"username": "clinician1",
                                               "password": "guess"}).status_code == 401
    locked = client.post("/api/token", data={"username": "clinician1", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    # The sign-in page counts against the same limit.
    client.get("/signin")
    page = client.post("/signin", data={"username": "clinician1", "password": PASSWORD,
                                        "csrf_token": client.cookies.get("dermatrack_csrf")})
    assert page.status_code == 429 and "too many" in page.text
    # Another account from the same address is not locked out.
    assert client.post("/api/token", data={"username": "reception1",
                                           "password": PASSWORD}).status_code == 200


def test_limiter_window_expires():
    from dermatrack.web.security import SignInLimiter

    now = [1000.0]
    limiter = SignInLimiter(max_failures=2, window_s=60, clock=lambda: now[0])
    limiter.failed("Ann", "1.2.3.4")
    limiter.failed("ann", "1.2.3.4")
    assert limiter.retry_after("ann", "1.2.3.4") == 61
    assert limiter.retry_after("ann", "5.6.7.8") == 0
    now[0] += 61
    assert limiter.retry_after("ann", "1.2.3.4") == 0


def test_csrf_is_required_for_session_writes(web):
    client = web.signed_in("clinician")
    no_header = client.post("/api/patients", json=NEW_PATIENT)
    assert no_header.status_code == 403 and "CSRF" in no_header.text
    token = client.cookies.get("dermatrack_csrf")
    wrong = client.post("/api/patients", json=NEW_PATIENT, headers={"X-CSRF-Token": "x" * 40})
    assert wrong.status_code == 403
    ok = client.post("/api/patients", json=NEW_PATIENT, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201
    form = client.post("/patients/new", data={"fitzpatrick": "II", "age": "30"})
    assert form.status_code == 403
    signout = client.post("/signout", data={"csrf_token": "stale"})
    assert signout.status_code == 403


def test_session_cookie_is_httponly_and_samesite(web):
    client = web.client()
    client.get("/signin")
    response = client.post("/signin", data={"username": "admin1", "password": PASSWORD,
                                            "csrf_token": client.cookies.get("dermatrack_csrf")},
                           follow_redirects=False)
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("dermatrack_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert response.headers["location"] == "/admin/audit"
    forged = web.client()
    forged.cookies.set("dermatrack_session", session.split(";")[0].split("=", 1)[1] + "x")
    assert forged.get("/api/patients").status_code == 401


def test_a_file_posted_as_the_form_token_is_no_token(web):
    """A file under the CSRF field's name is refused like a wrong token (403), not
    compared as if it were text."""
    client = web.signed_in("clinician")
    response = client.post("/signout", files={"csrf_token": ("token.txt", b"x" * 43)})
    assert response.status_code == 403


def test_the_users_page_takes_nothing_from_the_query_string(web):
    """``status_code``, ``errors`` and ``form`` belong to the page after a refused form,
    not to the URL."""
    client = web.signed_in("admin")
    page = client.get("/admin/users", params={"status_code": "500", "errors": "x",
                                              "form": "y"})
    assert page.status_code == 200
    assert "admin1" in page.text


def test_a_heic_from_a_phone_is_accepted_with_or_without_its_type(web):
    from pathlib import Path

    heic = (Path(__file__).resolve().parents[1] / "imaging" / "heic" / "skin.heic").read_bytes()
    client = web.client("clinician")
    pid = _patient(web)
    url = f"/api/patients/{pid}/photos"
    typed = client.post(url, data={"close_up": "true"},
                        files={"image": ("IMG_0001.HEIC", heic, "image/heic")})
    assert typed.status_code == 201, typed.text
    stored = client.get(f"{url}/{typed.json()['photo']['id']}/image")
    assert stored.content.startswith(b"\x89PNG")  # re-encoded: pixels only
    # Browsers that do not know the type send none; the suffix names it.
    untyped = client.post(url, data={"close_up": "true"},
                          files={"image": ("IMG_0002.heic", heic, "application/octet-stream")})
    assert untyped.status_code == 201, untyped.text
    assert untyped.json()["photo"]["duplicate_of"] == typed.json()["photo"]["id"]
    other = client.post(url, files={"image": ("notes.bin", heic, "application/octet-stream")})
    assert other.status_code == 415 and "HEIC" in other.json()["detail"]
