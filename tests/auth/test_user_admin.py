"""Administrators' user pages (issue 9 §9): usernames are checked on the server, and an officer
without a lane is pointed out."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.auth.models import User
from app.container import Container
from tests.web import post_form, signed_in


def new_user(**changes: object) -> dict[str, object]:
    return {"username": "joko", "full_name": "Joko Baru", "email": "joko@ptsp.example", "role": "officer",
            "password": "rahasia-petugas-9", **changes}


def test_a_username_with_a_space_is_refused_beside_its_field(web_app: Flask, deployed: Container) -> None:
    admin = signed_in(web_app, "admin")
    for bad in ("Joko Baru", "JOKO", "jo", "joko<script>"):
        response = post_form(admin, "/admin/users/new", new_user(username=bad, lanes="verifier"))
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and 'data-testid="username-error"' in page, bad
        assert "tanpa spasi" in page
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(User).where(User.full_name == "Joko Baru")).first() is None


def test_an_officer_without_a_lane_is_pointed_out(web_app: Flask) -> None:
    admin = signed_in(web_app, "admin")
    response = post_form(admin, "/admin/users/new", new_user())
    assert response.status_code == 302
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "Joko Baru belum punya jalur tugas" in users
    row = users[users.index("<td>joko</td>"):].split("</tr>")[0]
    assert 'data-testid="no-lane"' in row
    assert 'data-testid="no-lane"' not in users[users.index("<td>loket</td>"):].split("</tr>")[0]


def test_a_user_form_with_an_unknown_role_lane_or_nip_changes_nothing(web_app: Flask, deployed: Container) -> None:
    admin = signed_in(web_app, "admin")
    for changes, says in [({"role": "superuser"}, "Pilih peran yang tersedia."),
                          ({"lanes": ["verifier", "kantin"]}, "Pilih jalur tugas yang tersedia."),
                          ({"nip": "1234"}, "NIP terdiri dari 18 angka."),
                          ({"full_name": "  "}, "Nama lengkap wajib diisi"),
                          ({"email": "x" * 201 + "@ptsp.example"}, "Surel paling panjang 200 karakter.")]:
        response = post_form(admin, "/admin/users/new", new_user(**changes))
        assert response.status_code == 400 and says in response.get_data(as_text=True), changes
    with deployed.db.unit_of_work() as session:
        assert session.scalars(select(User).where(User.username == "joko")).first() is None
        kasir = session.scalars(select(User).where(User.username == "kasir")).one()
        kasir_id, role = kasir.id, kasir.role
    changed = post_form(admin, f"/admin/users/{kasir_id}?lang=en", {"full_name": "Dewi Lestari", "role": "root"})
    assert changed.status_code == 400 and "Choose one of the roles offered." in changed.get_data(as_text=True)
    with deployed.db.unit_of_work() as session:
        assert session.get_one(User, kasir_id).role == role
