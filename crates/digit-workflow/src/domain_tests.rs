//! Table-driven tests of the transition rules on the shipped PGR business service.

use super::*;
use crate::model::BusinessServiceRequest;
use digit_core::{DigitError, Role, UserType};

const TENANT: &str = "pg.citya";
const T0: i64 = 1_700_000_000_000;

fn pgr() -> BusinessService {
    let text = include_str!("../../../configs/workflow/pgr.json");
    let request: BusinessServiceRequest = serde_json::from_str(text).unwrap();
    let bs = request.business_services.into_iter().next().unwrap();
    let mut n = 0;
    let mut ids = || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    };
    prepare_new_business_service(bs, "loader", T0, &mut ids).unwrap()
}

fn state<'a>(bs: &'a BusinessService, name: Option<&str>) -> &'a State {
    bs.states
        .iter()
        .find(|s| s.state.as_deref() == name)
        .unwrap()
}

fn user(uuid: &str, codes: &[(&str, &str)], citizen: bool) -> UserInfo {
    UserInfo {
        uuid: Some(uuid.into()),
        user_type: Some(if citizen {
            UserType::Citizen
        } else {
            UserType::Employee
        }),
        roles: codes
            .iter()
            .map(|(code, tenant)| Role {
                code: (*code).into(),
                tenant_id: Some((*tenant).into()),
                ..Role::default()
            })
            .collect(),
        ..UserInfo::default()
    }
}

fn with_role(code: &str) -> UserInfo {
    user(&format!("u-{code}"), &[(code, TENANT)], code == "CITIZEN")
}

/// The stored instance of an application that is in `name`.
fn db_in(bs: &BusinessService, name: &str, assignes: Vec<UserInfo>) -> ProcessInstance {
    ProcessInstance {
        id: Some("db-1".into()),
        tenant_id: Some(TENANT.into()),
        business_service: Some("PGR".into()),
        business_id: Some("PG-PGR-1".into()),
        action: Some("PREVIOUS".into()),
        state: Some(state(bs, Some(name)).clone()),
        assignes: Some(assignes),
        state_sla: Some(100_000),
        businesss_service_sla: Some(1_000_000),
        audit_details: Some(AuditDetails {
            created_by: Some("creator".into()),
            created_time: Some(T0 - 50_000),
            last_modified_by: Some("someone".into()),
            last_modified_time: Some(T0 - 10_000),
        }),
        ..ProcessInstance::default()
    }
}

fn request(action: &str) -> ProcessInstance {
    ProcessInstance {
        tenant_id: Some(TENANT.into()),
        business_service: Some("PGR".into()),
        business_id: Some("PG-PGR-1".into()),
        action: Some(action.into()),
        module_name: Some("PGR".into()),
        ..ProcessInstance::default()
    }
}

fn run(
    bs: &BusinessService,
    db: Option<&ProcessInstance>,
    req: ProcessInstance,
    who: &UserInfo,
    assignees: Vec<UserInfo>,
    now: i64,
) -> Result<ProcessInstance, WorkflowError> {
    let resolved = resolve(bs, db, &req)?;
    let ctx = TransitionContext {
        service: bs,
        db,
        user: who,
        assignees,
        now,
    };
    let mut n = 0;
    transition(&ctx, &resolved, req, &mut || {
        n += 1;
        format!("new-{n}")
    })
}

fn outcome(r: &Result<ProcessInstance, WorkflowError>) -> String {
    match r {
        Ok(pi) => pi
            .state
            .as_ref()
            .and_then(|s| s.application_status.clone())
            .unwrap_or_default(),
        Err(e) => e.code().to_owned(),
    }
}

/// Hand-written expectations: (state, action, role) → resulting status or error code.
#[test]
fn pgr_lifecycle_table() {
    let bs = pgr();
    let table: &[(&str, &str, &str, &str)] = &[
        ("", "APPLY", "CITIZEN", "PENDINGFORASSIGNMENT"),
        ("", "APPLY", "CSR", "PENDINGFORASSIGNMENT"),
        ("", "APPLY", "GRO", "INVALID ROLE"),
        ("", "APPLY", "PGR_LME", "INVALID ROLE"),
        ("", "ASSIGN", "GRO", "INVALID ACTION"),
        ("PENDINGFORASSIGNMENT", "ASSIGN", "GRO", "PENDINGATLME"),
        ("PENDINGFORASSIGNMENT", "ASSIGN", "DGRO", "PENDINGATLME"),
        ("PENDINGFORASSIGNMENT", "assign", "GRO", "PENDINGATLME"),
        ("PENDINGFORASSIGNMENT", "ASSIGN", "PGR_LME", "INVALID ROLE"),
        ("PENDINGFORASSIGNMENT", "ASSIGN", "CITIZEN", "INVALID ROLE"),
        ("PENDINGFORASSIGNMENT", "REJECT", "GRO", "REJECTED"),
        ("PENDINGFORASSIGNMENT", "REJECT", "CSR", "INVALID ROLE"),
        (
            "PENDINGFORASSIGNMENT",
            "RESOLVE",
            "PGR_LME",
            "INVALID ACTION",
        ),
        (
            "PENDINGFORASSIGNMENT",
            "COMMENT",
            "CITIZEN",
            "PENDINGFORASSIGNMENT",
        ),
        // Non-state-changing: any role of the business service may comment.
        (
            "PENDINGFORASSIGNMENT",
            "COMMENT",
            "GRO",
            "PENDINGFORASSIGNMENT",
        ),
        (
            "PENDINGFORASSIGNMENT",
            "COMMENT",
            "EMPLOYEE",
            "INVALID ROLE",
        ),
        (
            "PENDINGFORASSIGNMENT",
            "ESCALATE",
            "AUTO_ESCALATE",
            "PENDINGFORASSIGNMENT",
        ),
        (
            "PENDINGFORASSIGNMENT",
            "ASSIGNEDBYAUTOESCALATION",
            "AUTO_ESCALATE",
            "PENDINGATLME",
        ),
        (
            "PENDINGFORASSIGNMENT",
            "ASSIGNEDBYAUTOESCALATION",
            "GRO",
            "INVALID ROLE",
        ),
        ("PENDINGATLME", "RESOLVE", "PGR_LME", "RESOLVED"),
        ("PENDINGATLME", "RESOLVE", "GRO", "INVALID ROLE"),
        (
            "PENDINGATLME",
            "REASSIGN",
            "PGR_LME",
            "PENDINGFORREASSIGNMENT",
        ),
        (
            "PENDINGATLME",
            "ESCALATE",
            "AUTO_ESCALATE",
            "PENDINGATSUPERVISOR",
        ),
        ("PENDINGATLME", "ASSIGN", "GRO", "INVALID ACTION"),
        ("PENDINGFORREASSIGNMENT", "ASSIGN", "GRO", "PENDINGATLME"),
        ("PENDINGFORREASSIGNMENT", "REJECT", "DGRO", "REJECTED"),
        (
            "PENDINGFORREASSIGNMENT",
            "RESOLVE",
            "PGR_LME",
            "INVALID ACTION",
        ),
        (
            "PENDINGATSUPERVISOR",
            "RESOLVEBYSUPERVISOR",
            "SUPERVISOR",
            "RESOLVEDBYSUPERVISOR",
        ),
        (
            "PENDINGATSUPERVISOR",
            "RESOLVEBYSUPERVISOR",
            "PGR_LME",
            "INVALID ROLE",
        ),
        ("RESOLVED", "RATE", "CITIZEN", "CLOSEDAFTERRESOLUTION"),
        ("RESOLVED", "RATE", "CFC", "CLOSEDAFTERRESOLUTION"),
        ("RESOLVED", "RATE", "GRO", "INVALID ROLE"),
        ("RESOLVED", "REOPEN", "CITIZEN", "PENDINGFORASSIGNMENT"),
        ("RESOLVED", "REOPEN", "CSR", "PENDINGFORASSIGNMENT"),
        ("RESOLVED", "REOPEN", "PGR_LME", "INVALID ROLE"),
        ("REJECTED", "RATE", "CITIZEN", "CLOSEDAFTERREJECTION"),
        ("REJECTED", "REOPEN", "CFC", "PENDINGFORASSIGNMENT"),
        (
            "CLOSEDAFTERRESOLUTION",
            "REOPEN",
            "CITIZEN",
            "INVALID ACTION",
        ),
        (
            "CLOSEDAFTERRESOLUTION",
            "COMMENT",
            "CITIZEN",
            "INVALID ACTION",
        ),
        ("CLOSEDAFTERREJECTION", "RATE", "CITIZEN", "INVALID ACTION"),
        (
            "RESOLVEDBYSUPERVISOR",
            "REOPEN",
            "CITIZEN",
            "INVALID ACTION",
        ),
    ];
    for (from, action, role, expected) in table {
        let db = (!from.is_empty()).then(|| db_in(&bs, from, vec![]));
        let result = run(
            &bs,
            db.as_ref(),
            request(action),
            &with_role(role),
            vec![],
            T0,
        );
        assert_eq!(
            outcome(&result),
            *expected,
            "{from} --{action}--> as {role}"
        );
    }
}

/// Every action name from every state with every role: the outcome follows the config.
#[test]
fn every_action_from_every_state_with_every_role() {
    let bs = pgr();
    let actions: BTreeSet<String> = bs
        .states
        .iter()
        .flat_map(State::actions)
        .map(|a| a.name().to_owned())
        .collect();
    let mut roles: Vec<String> = roles_in_service(&bs).into_iter().collect();
    roles.push("EMPLOYEE".into());
    let mut checked = 0;
    for from in &bs.states {
        let db = from.state.as_deref().map(|name| db_in(&bs, name, vec![]));
        for action in &actions {
            for role in &roles {
                let result = run(
                    &bs,
                    db.as_ref(),
                    request(action),
                    &with_role(role),
                    vec![],
                    T0,
                );
                let configured = from.actions().iter().find(|a| a.name() == action);
                let expected = match configured {
                    None => codes::INVALID_ACTION.to_owned(),
                    Some(a) => {
                        let allowed = if a.changes_state() {
                            a.roles.contains(role)
                        } else {
                            roles_in_service(&bs).contains(role)
                        };
                        if allowed {
                            state_by_uuid(&bs, a.next_state.as_deref().unwrap())
                                .unwrap()
                                .application_status
                                .clone()
                                .unwrap()
                        } else {
                            codes::INVALID_ROLE.to_owned()
                        }
                    }
                };
                assert_eq!(
                    outcome(&result),
                    expected,
                    "{:?} --{action}--> as {role}",
                    from.state
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn invalid_action_message_names_action_and_business_id() {
    let bs = pgr();
    let err = run(
        &bs,
        None,
        request("RESOLVE"),
        &with_role("CITIZEN"),
        vec![],
        T0,
    )
    .unwrap_err();
    assert_eq!(
        err.errors()[0].message,
        "Action RESOLVE not found in config for the businessId: PG-PGR-1"
    );
    let err = run(&bs, None, request("APPLY"), &with_role("GRO"), vec![], T0).unwrap_err();
    assert_eq!(err.errors()[0].code, "INVALID ROLE");
    assert_eq!(
        err.errors()[0].message,
        "User is not authorized to perform action"
    );
}

#[test]
fn roles_count_for_the_tenant_or_its_state_only() {
    let bs = pgr();
    let db = db_in(&bs, "PENDINGFORASSIGNMENT", vec![]);
    let other_city = user("g", &[("GRO", "pg.cityb")], false);
    let state_level = user("g", &[("GRO", "pg")], false);
    assert_eq!(
        outcome(&run(
            &bs,
            Some(&db),
            request("ASSIGN"),
            &other_city,
            vec![],
            T0
        )),
        "INVALID ROLE"
    );
    assert_eq!(
        outcome(&run(
            &bs,
            Some(&db),
            request("ASSIGN"),
            &state_level,
            vec![],
            T0
        )),
        "PENDINGATLME"
    );
}

fn assign_to(uuid: &str) -> ProcessInstance {
    ProcessInstance {
        assignes: Some(vec![UserInfo {
            uuid: Some(uuid.into()),
            ..UserInfo::default()
        }]),
        ..request("ASSIGN")
    }
}

#[test]
fn assignees_need_a_role_that_can_act_in_the_resultant_state() {
    let bs = pgr();
    let db = db_in(&bs, "PENDINGFORASSIGNMENT", vec![]);
    let gro = with_role("GRO");
    let cases = [
        (user("lme", &[("PGR_LME", TENANT)], false), "PENDINGATLME"),
        // A state-level role counts for every city of the state.
        (user("lme", &[("PGR_LME", "pg")], false), "PENDINGATLME"),
        (
            user("lme", &[("PGR_LME", "pg.cityb")], false),
            "INVALID_ASSIGNEE",
        ),
        (user("gro2", &[("GRO", TENANT)], false), "INVALID_ASSIGNEE"),
        (
            user("emp", &[("EMPLOYEE", TENANT)], false),
            "INVALID_ASSIGNEE",
        ),
    ];
    for (assignee, expected) in cases {
        let result = run(
            &bs,
            Some(&db),
            assign_to("lme"),
            &gro,
            vec![assignee.clone()],
            T0,
        );
        assert_eq!(outcome(&result), expected, "{:?}", assignee.roles);
        if let Err(e) = &result {
            assert_eq!(
                e.errors()[0].message,
                format!("Cannot assign to the user: {}", assignee.uuid.unwrap())
            );
        } else {
            let pi = result.unwrap();
            let assigned = pi.assignes.unwrap();
            assert_eq!(assigned[0].uuid.as_deref(), Some("lme"));
            assert!(!assigned[0].roles.is_empty(), "assignees are enriched");
        }
    }
}

#[test]
fn documents_required_by_the_resultant_state() {
    let mut bs = pgr();
    for s in &mut bs.states {
        if s.state.as_deref() == Some("RESOLVED") {
            s.doc_upload_required = Some(true);
        }
    }
    let db = db_in(&bs, "PENDINGATLME", vec![]);
    let lme = with_role("PGR_LME");
    let err = run(&bs, Some(&db), request("RESOLVE"), &lme, vec![], T0).unwrap_err();
    assert_eq!(err.code(), "INVALID DOCUMENT");
    assert_eq!(
        err.errors()[0].message,
        "Documents cannot be null for status: RESOLVED"
    );
    let with_docs = ProcessInstance {
        documents: Some(vec![Document {
            id: Some("client-id".into()),
            document_type: Some("PHOTO".into()),
            file_store_id: Some("fs-1".into()),
            ..Document::default()
        }]),
        ..request("RESOLVE")
    };
    let pi = run(&bs, Some(&db), with_docs, &lme, vec![], T0).unwrap();
    let doc = &pi.documents.unwrap()[0];
    assert_ne!(
        doc.id.as_deref(),
        Some("client-id"),
        "ids are server-generated"
    );
    assert_eq!(doc.tenant_id.as_deref(), Some(TENANT));
    assert_eq!(doc.audit_details.as_ref().unwrap().created_time, Some(T0));
}

#[test]
fn rating_only_on_rate() {
    let bs = pgr();
    let db = db_in(&bs, "RESOLVED", vec![]);
    let citizen = with_role("CITIZEN");
    let rate = ProcessInstance {
        rating: Some(4),
        ..request("RATE")
    };
    let pi = run(&bs, Some(&db), rate, &citizen, vec![], T0).unwrap();
    assert_eq!(pi.rating, Some(4));
    let reopen_with_rating = ProcessInstance {
        rating: Some(4),
        ..request("REOPEN")
    };
    let err = run(&bs, Some(&db), reopen_with_rating, &citizen, vec![], T0).unwrap_err();
    assert_eq!(err.code(), "INVALID_ACTION");
    assert_eq!(
        err.errors()[0].message,
        "Rating can be given only upon taking RATE action."
    );
}

#[test]
fn citizen_assignee_rule() {
    let bs = pgr();
    let owner = user("c1", &[("CITIZEN", "pg")], true);
    let other = user("c2", &[("CITIZEN", "pg")], true);
    let db = db_in(&bs, "RESOLVED", vec![owner.clone()]);
    assert_eq!(
        outcome(&run(&bs, Some(&db), request("REOPEN"), &owner, vec![], T0)),
        "PENDINGFORASSIGNMENT"
    );
    let err = run(&bs, Some(&db), request("REOPEN"), &other, vec![], T0).unwrap_err();
    assert_eq!(err.code(), "INVALID_USER");
    assert_eq!(
        err.errors()[0].message,
        "Citizen not authorized to perform action on application: PG-PGR-1"
    );
    // Employees are not bound by it; employee assignees do not restrict citizens.
    let csr = with_role("CSR");
    assert_eq!(
        outcome(&run(&bs, Some(&db), request("REOPEN"), &csr, vec![], T0)),
        "PENDINGFORASSIGNMENT"
    );
    let db = db_in(&bs, "RESOLVED", vec![with_role("PGR_LME")]);
    assert_eq!(
        outcome(&run(&bs, Some(&db), request("REOPEN"), &other, vec![], T0)),
        "PENDINGFORASSIGNMENT"
    );
}

#[test]
fn sent_back_to_citizen_only_that_citizen_acts() {
    let mut bs = pgr();
    let pending = state(&bs, Some("PENDINGFORASSIGNMENT")).uuid.clone();
    for s in &mut bs.states {
        if s.state.as_deref() == Some("PENDINGATLME") {
            s.actions.get_or_insert_with(Vec::new).push(Action {
                action: Some("SENDBACKTOCITIZEN".into()),
                current_state: s.uuid.clone(),
                next_state: pending.clone(),
                roles: vec!["PGR_LME".into()],
                active: Some(true),
                ..Action::default()
            });
        }
    }
    let owner = user("c1", &[("CITIZEN", "pg")], true);
    let other = user("c2", &[("CITIZEN", "pg")], true);
    let mut db = db_in(&bs, "PENDINGFORASSIGNMENT", vec![with_role("PGR_LME")]);
    db.action = Some("SENDBACKTOCITIZEN".into());
    db.assignes = Some(vec![UserInfo {
        user_type: Some(UserType::Employee),
        ..owner.clone()
    }]);
    let err = run(&bs, Some(&db), request("COMMENT"), &other, vec![], T0).unwrap_err();
    assert_eq!(err.code(), "INVALID_USER");
    assert_eq!(
        err.errors()[0].message,
        "The user: c2 is not authorized to take action"
    );
    assert!(run(&bs, Some(&db), request("COMMENT"), &owner, vec![], T0).is_ok());
}

#[test]
fn sla_after_each_step() {
    let bs = pgr();
    let citizen = user("c1", &[("CITIZEN", "pg")], true);
    let applied = run(&bs, None, request("APPLY"), &citizen, vec![], T0).unwrap();
    assert_eq!(applied.businesss_service_sla, Some(432_000_000));
    assert_eq!(applied.state_sla, Some(172_800_000));
    assert_eq!(applied.module_name.as_deref(), Some("pgr-services"));
    assert_eq!(applied.escalated, Some(false));
    assert_eq!(
        applied.assigner.as_ref().unwrap().uuid.as_deref(),
        Some("c1")
    );
    // Next actions for the citizen in PENDINGFORASSIGNMENT: only COMMENT.
    let next: Vec<&str> = applied
        .next_actions
        .as_ref()
        .unwrap()
        .iter()
        .map(Action::name)
        .collect();
    assert_eq!(next, ["COMMENT"]);

    let gro = with_role("GRO");
    let lme = user("lme", &[("PGR_LME", TENANT)], false);
    let assigned = run(
        &bs,
        Some(&applied),
        assign_to("lme"),
        &gro,
        vec![lme.clone()],
        T0 + 1_000,
    )
    .unwrap();
    assert_eq!(assigned.businesss_service_sla, Some(432_000_000 - 1_000));
    assert_eq!(assigned.state_sla, Some(259_200_000));
    assert_eq!(
        assigned.previous_status,
        state(&bs, Some("PENDINGFORASSIGNMENT")).uuid
    );
    let next: Vec<&str> = assigned
        .next_actions
        .as_ref()
        .unwrap()
        .iter()
        .map(Action::name)
        .collect();
    assert!(next.is_empty(), "a GRO cannot act at the LME: {next:?}");

    // A non-state-changing action keeps counting down the state SLA and keeps createdBy.
    let commented = run(
        &bs,
        Some(&assigned),
        request("COMMENT"),
        &citizen,
        vec![],
        T0 + 1_500,
    )
    .unwrap();
    assert_eq!(commented.state_sla, Some(259_200_000 - 500));
    assert_eq!(commented.businesss_service_sla, Some(432_000_000 - 1_500));
    let audit = commented.audit_details.as_ref().unwrap();
    assert_eq!(audit.created_by.as_deref(), Some("u-GRO"));
    assert_eq!(audit.created_time, Some(T0 + 1_000));
    assert_eq!(audit.last_modified_by.as_deref(), Some("c1"));

    let resolved = run(
        &bs,
        Some(&commented),
        request("RESOLVE"),
        &lme,
        vec![],
        T0 + 2_000,
    )
    .unwrap();
    assert_eq!(resolved.state_sla, Some(432_000_000));
    assert_eq!(resolved.businesss_service_sla, Some(432_000_000 - 2_000));
    let next: Vec<&str> = resolved
        .next_actions
        .as_ref()
        .unwrap()
        .iter()
        .map(Action::name)
        .collect();
    assert!(next.is_empty());
    let rated = run(
        &bs,
        Some(&resolved),
        ProcessInstance {
            rating: Some(5),
            ..request("RATE")
        },
        &citizen,
        vec![],
        T0 + 3_000,
    )
    .unwrap();
    assert_eq!(rated.state_sla, None, "CLOSEDAFTERRESOLUTION has no SLA");
    assert_eq!(rated.businesss_service_sla, Some(432_000_000 - 3_000));

    let mut searched = rated.clone();
    remaining_sla(&mut searched, T0 + 10_000);
    assert_eq!(searched.businesss_service_sla, Some(432_000_000 - 10_000));
}

#[test]
fn next_actions_are_sorted_and_role_filtered() {
    let bs = pgr();
    let gro = with_role("GRO");
    let pending = state(&bs, Some("PENDINGFORASSIGNMENT"));
    let names: Vec<String> = next_actions(pending, &bs, &gro, TENANT)
        .into_iter()
        .map(|a| a.name().to_owned())
        .collect();
    assert_eq!(names, ["ASSIGN", "ESCALATE", "REJECT"]);
}

#[test]
fn star_roles_mean_every_role_of_the_service() {
    let mut bs = pgr();
    for s in &mut bs.states {
        for a in s.actions.iter_mut().flatten() {
            if a.name() == "RESOLVE" {
                a.roles = vec!["*".into()];
            }
        }
    }
    let db = db_in(&bs, "PENDINGATLME", vec![]);
    assert_eq!(
        outcome(&run(
            &bs,
            Some(&db),
            request("RESOLVE"),
            &with_role("CFC"),
            vec![],
            T0
        )),
        "RESOLVED"
    );
    assert_eq!(
        outcome(&run(
            &bs,
            Some(&db),
            request("RESOLVE"),
            &with_role("EMPLOYEE"),
            vec![],
            T0
        )),
        "INVALID ROLE"
    );
}

#[test]
fn unknown_next_state_is_refused_on_create() {
    let text = include_str!("../../../configs/workflow/pgr.json");
    let request: BusinessServiceRequest = serde_json::from_str(text).unwrap();
    let mut bs = request.business_services.into_iter().next().unwrap();
    bs.states[1].actions.as_mut().unwrap()[0].next_state = Some("NOWHERE".into());
    let err = prepare_new_business_service(bs, "u", T0, &mut || uuid::Uuid::new_v4().to_string())
        .unwrap_err();
    assert_eq!(err.code(), "INVALID NEXTSTATE");
    assert_eq!(
        err.errors()[0].message,
        "The state with name: NOWHERE does not exist in config"
    );
}

#[test]
fn nearing_sla_limit_matches_upstream_arithmetic() {
    assert_eq!(
        nearing_sla_limit(432_000_000, 33.0),
        432_000_000 - 33 * 4_320_000
    );
    assert_eq!(nearing_sla_limit(0, 33.0), 0);
}
