//! The properties of a [`People`](rollcoach_store::People) store ([`crate::people_suite!`]): coach
//! names unique case-insensitively, the owner known without a row, a
//! client belonging to one coach (another coach's client is not found),
//! invites that let one client in once and not after they expire, and
//! failed sign-ins counted in their window and cleared. Each takes the
//! constructor of a fresh, empty backend.

use rollcoach_engine::Time;
use rollcoach_store::{
    Conflict, NewDevice, NewInvite, NotFound, PersonId, PersonInfo, Role, SIGN_IN_WINDOW_MS,
    StoreError,
};

use crate::PeopleBackend;
use crate::kit::NOW;

/// `n` hours after [`NOW`].
fn after(n: u64) -> Time {
    NOW.plus_ms(n * 3_600_000)
}

/// The constructor of a fresh, empty backend.
pub type Make<'a> = &'a dyn Fn() -> PeopleBackend;

fn device<'a>(id: &'a str, secret_hash: &'a str) -> NewDevice<'a> {
    NewDevice {
        id,
        name: "a phone",
        via: "an invite",
        secret_hash,
        created_at: NOW,
    }
}

fn invite<'a>(token_hash: &'a str, name: Option<&'a str>, expires_at: Time) -> NewInvite<'a> {
    NewInvite {
        token_hash,
        name,
        created_at: NOW,
        expires_at,
    }
}

fn client_id(n: u32) -> PersonId {
    PersonId::parse(&format!("client-{n}")).unwrap()
}

fn is_person_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::NotFound(NotFound::Person(_)))
}

/// Coaches get distinct valid ids, are listed in the order they were
/// added, found by id and by name in any case; a second coach of the same
/// name (in another case too) is refused, and nothing is added.
pub fn coach_names_are_unique_whatever_their_case(make: Make<'_>) {
    let b = make();
    let ana = b.people.add_coach("Ana", NOW).unwrap();
    let bo = b.people.add_coach("  Bo ", NOW.plus_ms(1)).unwrap();
    assert_eq!(ana.role, Role::Coach);
    assert_eq!(ana.coach, None);
    assert_eq!(ana.created_at, NOW);
    assert_eq!(bo.name, "Bo", "the name is trimmed");
    assert_ne!(ana.id, bo.id);
    assert!(!ana.id.is_owner());
    assert!(PersonId::parse(ana.id.as_str()).is_ok());
    for taken in ["Ana", "ana", "ANA", " ana "] {
        let e = b.people.add_coach(taken, NOW).unwrap_err();
        assert!(
            matches!(e, StoreError::Conflict(Conflict::CoachName { .. })),
            "{taken}: {e}"
        );
    }
    assert!(b.people.add_coach("", NOW).is_err(), "an empty name");
    let coaches = b.people.coaches().unwrap();
    assert_eq!(coaches, vec![ana.clone(), bo.clone()]);
    assert_eq!(b.people.person(&ana.id).unwrap(), Some(ana.clone()));
    let (found, hash) = b.people.coach_by_name("aNa").unwrap().unwrap();
    assert_eq!((found, hash), (ana, None));
    assert_eq!(b.people.coach_by_name("nobody").unwrap(), None);
}

/// The owner is known on an empty store, has no coach and is no coach:
/// it has no clients, takes no password and makes no invite.
pub fn the_owner_is_known_without_a_row_and_is_no_coach(make: Make<'_>) {
    let b = make();
    let owner = PersonId::owner();
    assert_eq!(b.people.person(&owner).unwrap(), Some(PersonInfo::owner()));
    assert_eq!(b.people.coaches().unwrap(), vec![]);
    assert_eq!(b.people.clients(&owner).unwrap(), vec![]);
    assert!(is_person_not_found(
        &b.people.set_password_hash(&owner, "h").unwrap_err()
    ));
    let e = b
        .people
        .add_invite(&owner, &invite("t", None, after(1)))
        .unwrap_err();
    assert!(is_person_not_found(&e), "{e}");
    assert_eq!(
        b.people
            .person(&PersonId::parse("nobody").unwrap())
            .unwrap(),
        None
    );
}

/// A coach's password hash is set, replaced and read back with them.
pub fn a_password_hash_is_set_and_replaced(make: Make<'_>) {
    let b = make();
    let ana = b.people.add_coach("Ana", NOW).unwrap();
    b.people.set_password_hash(&ana.id, "first").unwrap();
    assert_eq!(
        b.people.coach_by_name("ana").unwrap().unwrap().1.as_deref(),
        Some("first")
    );
    b.people.set_password_hash(&ana.id, "second").unwrap();
    assert_eq!(
        b.people.coach_by_name("ana").unwrap().unwrap().1.as_deref(),
        Some("second")
    );
    let nobody = PersonId::parse("coach-none").unwrap();
    assert!(is_person_not_found(
        &b.people.set_password_hash(&nobody, "x").unwrap_err()
    ));
}

/// An invite lets one client in, once: the client is the coach's, named
/// as the invite named them, with the device recorded as theirs; the same
/// invite again, an unknown one, and one past its expiry let nobody in and
/// write nothing.
pub fn an_invite_lets_one_client_in_once_and_not_after_it_expires(make: Make<'_>) {
    let b = make();
    let ana = b.people.add_coach("Ana", NOW).unwrap();
    b.people
        .add_invite(&ana.id, &invite("tok-1", Some("Cleo"), after(24)))
        .unwrap();
    b.people
        .add_invite(&ana.id, &invite("tok-2", None, after(1)))
        .unwrap();
    let at = after(2);
    let (cleo, phone) = b
        .people
        .redeem_invite("tok-1", at, &client_id(1), &device("d1", "sec-1"))
        .unwrap()
        .expect("a waiting invite lets the client in");
    assert_eq!(cleo.id, client_id(1));
    assert_eq!(cleo.role, Role::Client);
    assert_eq!(cleo.name, "Cleo");
    assert_eq!(cleo.coach.as_ref(), Some(&ana.id));
    assert_eq!(cleo.created_at, at);
    assert_eq!(phone.person, client_id(1));
    assert_eq!(b.people.person(&client_id(1)).unwrap(), Some(cleo.clone()));
    let found = b.records.device_by_secret("sec-1").unwrap().unwrap();
    assert_eq!((found.id.as_str(), &found.person), ("d1", &client_id(1)));
    assert_eq!(b.people.clients(&ana.id).unwrap(), vec![cleo.clone()]);

    // Spent: nothing more.
    assert_eq!(
        b.people
            .redeem_invite("tok-1", at, &client_id(2), &device("d2", "sec-2"))
            .unwrap(),
        None
    );
    // Expired (tok-2 expired at hour 1) and unknown: nothing.
    assert_eq!(
        b.people
            .redeem_invite("tok-2", at, &client_id(3), &device("d3", "sec-3"))
            .unwrap(),
        None
    );
    assert_eq!(
        b.people
            .redeem_invite("tok-9", NOW, &client_id(4), &device("d4", "sec-4"))
            .unwrap(),
        None
    );
    for n in 2..=4 {
        assert_eq!(b.people.person(&client_id(n)).unwrap(), None);
    }
    for s in ["sec-2", "sec-3", "sec-4"] {
        assert_eq!(b.records.device_by_secret(s).unwrap(), None, "{s}");
    }
    assert_eq!(b.people.clients(&ana.id).unwrap(), vec![cleo]);
}

/// An invite expires at its expiry exactly, and an invite with no name
/// makes a client with an empty one.
pub fn an_invite_is_good_until_just_before_it_expires(make: Make<'_>) {
    let b = make();
    let ana = b.people.add_coach("Ana", NOW).unwrap();
    let end = after(1);
    b.people
        .add_invite(&ana.id, &invite("late", None, end))
        .unwrap();
    b.people
        .add_invite(&ana.id, &invite("just", None, end))
        .unwrap();
    assert_eq!(
        b.people
            .redeem_invite("late", end, &client_id(1), &device("d1", "s1"))
            .unwrap(),
        None
    );
    let (c, _) = b
        .people
        .redeem_invite("just", Time(end.0 - 1), &client_id(2), &device("d2", "s2"))
        .unwrap()
        .unwrap();
    assert_eq!(c.name, "");
}

/// A coach's clients are theirs only: `client_of` finds a client of the
/// coach and answers not found for another coach's client, for an unknown
/// id, for the coach themself and for the owner; each coach lists only
/// their own clients.
pub fn a_client_of_another_coach_is_not_found(make: Make<'_>) {
    let b = make();
    let ana = b.people.add_coach("Ana", NOW).unwrap();
    let bo = b.people.add_coach("Bo", NOW).unwrap();
    b.people
        .add_invite(&ana.id, &invite("a", Some("Cleo"), after(24)))
        .unwrap();
    b.people
        .add_invite(&bo.id, &invite("b", Some("Dan"), after(24)))
        .unwrap();
    let (cleo, _) = b
        .people
        .redeem_invite("a", NOW, &client_id(1), &device("d1", "s1"))
        .unwrap()
        .unwrap();
    let (dan, _) = b
        .people
        .redeem_invite("b", NOW, &client_id(2), &device("d2", "s2"))
        .unwrap()
        .unwrap();
    assert_eq!(b.people.client_of(&ana.id, &cleo.id).unwrap(), cleo);
    assert_eq!(b.people.client_of(&bo.id, &dan.id).unwrap(), dan);
    for (coach, other) in [
        (&ana.id, &dan.id),
        (&bo.id, &cleo.id),
        (&ana.id, &client_id(9)),
        (&ana.id, &ana.id),
        (&ana.id, &PersonId::owner()),
        (&cleo.id, &cleo.id),
    ] {
        let e = b.people.client_of(coach, other).unwrap_err();
        assert!(is_person_not_found(&e), "{coach} {other}: {e}");
    }
    assert_eq!(b.people.clients(&ana.id).unwrap(), vec![cleo.clone()]);
    assert_eq!(b.people.clients(&bo.id).unwrap(), vec![dan]);
    assert_eq!(b.people.clients(&cleo.id).unwrap(), vec![]);
    // An invite cannot be made by a client.
    assert!(is_person_not_found(
        &b.people
            .add_invite(&cleo.id, &invite("c", None, after(24)))
            .unwrap_err()
    ));
}

/// Failed sign-ins are counted per key within the window: each failure
/// answers the count so far, those older than the window stop counting,
/// other keys are apart, and a clear forgets them.
pub fn sign_in_failures_are_counted_in_their_window_and_cleared(make: Make<'_>) {
    let b = make();
    let p = &b.people;
    assert_eq!(p.sign_in_failures("name:ana", NOW).unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(
            p.note_sign_in_failure("name:ana", NOW.plus_ms(u64::from(n)))
                .unwrap(),
            n
        );
    }
    assert_eq!(p.note_sign_in_failure("addr:1", NOW).unwrap(), 1);
    assert_eq!(p.sign_in_failures("name:ana", NOW.plus_ms(10)).unwrap(), 3);
    // The first three fall out of the window, one by one.
    let later = NOW.plus_ms(SIGN_IN_WINDOW_MS + 2);
    assert_eq!(p.sign_in_failures("name:ana", later).unwrap(), 1);
    assert_eq!(p.note_sign_in_failure("name:ana", later).unwrap(), 2);
    let much_later = NOW.plus_ms(3 * SIGN_IN_WINDOW_MS);
    assert_eq!(p.sign_in_failures("name:ana", much_later).unwrap(), 0);
    assert_eq!(p.note_sign_in_failure("name:ana", much_later).unwrap(), 1);
    p.clear_sign_in_failures("name:ana").unwrap();
    assert_eq!(p.sign_in_failures("name:ana", much_later).unwrap(), 0);
    assert_eq!(p.sign_in_failures("addr:1", NOW).unwrap(), 1, "another key");
}

/// People moved from another database (`add_person`) keep their ids,
/// names, coaches, times and password hashes; adding the same person again
/// writes nothing; an id taken by someone else is refused. Each device's
/// secret hash is read back by device id, and a moved device lets its
/// phone in.
pub fn people_moved_from_another_database_keep_their_ids_and_devices(make: Make<'_>) {
    let from = make();
    let to = make();
    let ana = from.people.add_coach("Ana", NOW).unwrap();
    from.people.set_password_hash(&ana.id, "argon-ana").unwrap();
    from.people
        .add_invite(&ana.id, &invite("t1", Some("Cleo"), after(24)))
        .unwrap();
    let (cleo, _) = from
        .people
        .redeem_invite("t1", NOW.plus_ms(5), &client_id(1), &device("d1", "h1"))
        .unwrap()
        .expect("the invite lets Cleo in");
    assert_eq!(
        from.records.device_secret_hashes(&cleo.id).unwrap(),
        vec![("d1".to_owned(), "h1".to_owned())]
    );
    assert_eq!(from.records.device_secret_hashes(&ana.id).unwrap(), vec![]);
    assert_eq!(
        from.people.password_hash(&ana.id).unwrap().as_deref(),
        Some("argon-ana")
    );
    assert_eq!(from.people.password_hash(&cleo.id).unwrap(), None);

    // The coach first, then the client.
    assert!(to.people.add_person(&ana, Some("argon-ana")).unwrap());
    assert!(to.people.add_person(&cleo, None).unwrap());
    assert!(
        !to.people.add_person(&ana, Some("argon-ana")).unwrap(),
        "again"
    );
    assert!(!to.people.add_person(&PersonInfo::owner(), None).unwrap());
    assert_eq!(to.people.coaches().unwrap(), vec![ana.clone()]);
    assert_eq!(to.people.clients(&ana.id).unwrap(), vec![cleo.clone()]);
    assert_eq!(to.people.client_of(&ana.id, &cleo.id).unwrap(), cleo);
    let (found, hash) = to.people.coach_by_name("ana").unwrap().unwrap();
    assert_eq!((found, hash.as_deref()), (ana.clone(), Some("argon-ana")));
    // Someone else under a taken id: refused, and the first one stays.
    let other = PersonInfo {
        name: "Not Ana".to_owned(),
        ..ana.clone()
    };
    let e = to.people.add_person(&other, None).unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(Conflict::Constraint { .. })),
        "{e}"
    );
    assert_eq!(to.people.coaches().unwrap(), vec![ana]);

    // The device, moved by its hash, lets the phone in on the new one.
    to.records
        .add_device(&cleo.id, &device("d1", "h1"))
        .unwrap();
    let let_in = to.records.device_by_secret("h1").unwrap().expect("let in");
    assert_eq!((let_in.id.as_str(), &let_in.person), ("d1", &cleo.id));
}
