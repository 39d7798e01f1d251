//! Legacy SMS notifications (upstream-pgr §8.1): which transitions notify whom, with which
//! localized template, and placeholder filling. Pure; the service fetches messages and users.

use std::collections::BTreeMap;

/// `<action>_<status>` pairs that notify.
pub const ENABLED: &[&str] = &[
    "APPLY_PENDINGFORASSIGNMENT",
    "ASSIGN_PENDINGATLME",
    "REASSIGN_PENDINGFORREASSIGNMENT",
    "REASSIGN_PENDINGATLME",
    "REJECT_REJECTED",
    "RESOLVE_RESOLVED",
    "REOPEN_PENDINGFORASSIGNMENT",
    "RATE_CLOSEDAFTERRESOLUTION",
    "RATE_CLOSEDAFTERREJECTION",
];

/// Who the employee message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmployeeRecipient {
    /// Nobody.
    Nobody,
    /// The assignee of this transition.
    Assignee,
    /// The assignee of the last ASSIGN in the history.
    LastAssignee,
}

/// What a transition sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The citizen's specific template (absent for RATE: default only).
    pub citizen_code: Option<String>,
    /// The employee template and its recipient.
    pub employee: Option<(String, EmployeeRecipient)>,
    /// Whose name is `{emp_name}` in the citizen message.
    pub emp_name_from: EmployeeRecipient,
}

/// The plan for `action` ending in `status`, or `None` when the pair does not notify.
pub fn plan(action: &str, status: &str) -> Option<Plan> {
    let key = format!("{}_{}", action.to_uppercase(), status.to_uppercase());
    if !ENABLED.contains(&key.as_str()) {
        return None;
    }
    let citizen = Some(format!("PGR_CITIZEN_{key}_SMS_MESSAGE"));
    let employee = |to| Some((format!("PGR_EMPLOYEE_{key}_SMS_MESSAGE"), to));
    use EmployeeRecipient::{Assignee, LastAssignee, Nobody};
    Some(match key.as_str() {
        "APPLY_PENDINGFORASSIGNMENT" | "REJECT_REJECTED" => Plan {
            citizen_code: citizen,
            employee: None,
            emp_name_from: Nobody,
        },
        "ASSIGN_PENDINGATLME" | "REASSIGN_PENDINGATLME" | "REASSIGN_PENDINGFORREASSIGNMENT" => {
            Plan {
                citizen_code: citizen,
                employee: employee(Assignee),
                emp_name_from: Assignee,
            }
        }
        "REOPEN_PENDINGFORASSIGNMENT" => Plan {
            citizen_code: citizen,
            employee: employee(LastAssignee),
            emp_name_from: LastAssignee,
        },
        "RESOLVE_RESOLVED" => Plan {
            citizen_code: citizen,
            employee: None,
            emp_name_from: LastAssignee,
        },
        // RATE: the citizen gets only the default message.
        _ => Plan {
            citizen_code: None,
            employee: employee(LastAssignee),
            emp_name_from: LastAssignee,
        },
    })
}

/// The default citizen template.
pub const DEFAULT_CITIZEN: &str = "PGR_DEFAULT_CITIZEN_SMS_MESSAGE";

/// Fills `{name}` (and `<name>`) placeholders. Unknown placeholders stay as they are.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out
            .replace(&format!("{{{k}}}"), v)
            .replace(&format!("<{k}>"), v);
    }
    out
}

/// `dd/MM/yyyy` of an epoch-ms instant (UTC, as upstream's `app.timezone`).
pub fn format_date(epoch_ms: i64) -> String {
    let days = epoch_ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("{d:02}/{m:02}/{y:04}")
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The locale of a request: the part of `msgId` after `|`, default `en_IN` (upstream
/// fails the notification when there is no `|`; we use the default).
pub fn locale(msg_id: Option<&str>) -> String {
    msg_id
        .and_then(|m| m.split_once('|'))
        .map(|(_, l)| l.trim())
        .filter(|l| !l.is_empty())
        .unwrap_or("en_IN")
        .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plans_follow_the_transition_table() {
        assert!(plan("COMMENT", "PENDINGATLME").is_none());
        assert!(plan("ASSIGN", "RESOLVED").is_none());
        let apply = plan("APPLY", "PENDINGFORASSIGNMENT").unwrap();
        assert_eq!(
            apply.citizen_code.as_deref(),
            Some("PGR_CITIZEN_APPLY_PENDINGFORASSIGNMENT_SMS_MESSAGE")
        );
        assert!(apply.employee.is_none());
        let assign = plan("assign", "PENDINGATLME").unwrap();
        assert_eq!(assign.employee.unwrap().1, EmployeeRecipient::Assignee);
        let rate = plan("RATE", "CLOSEDAFTERRESOLUTION").unwrap();
        assert!(rate.citizen_code.is_none());
        assert_eq!(
            rate.employee.unwrap().0,
            "PGR_EMPLOYEE_RATE_CLOSEDAFTERRESOLUTION_SMS_MESSAGE"
        );
    }

    #[test]
    fn placeholders_in_both_syntaxes() {
        let mut v = BTreeMap::new();
        v.insert("id", "PG-1".to_owned());
        v.insert("complaint_type", "Streetlight".to_owned());
        assert_eq!(
            render("{complaint_type} <id> {unknown}", &v),
            "Streetlight PG-1 {unknown}"
        );
    }

    #[test]
    fn dates_and_locales() {
        assert_eq!(format_date(0), "01/01/1970");
        assert_eq!(format_date(1_764_028_800_000), "25/11/2025");
        assert_eq!(format_date(951_782_400_000), "29/02/2000");
        assert_eq!(locale(Some("20170310130900|hi_IN")), "hi_IN");
        assert_eq!(locale(Some("no-locale")), "en_IN");
        assert_eq!(locale(None), "en_IN");
    }
}
