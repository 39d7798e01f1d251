//! Upstream's error catalogue (`constants/Error.java`, spec §1.7.5): codes and messages
//! byte-identical. Header codes answer HTTP 400; the others become the entity's status
//! `{"status_code":"ERROR","status_message":"<CODE> <message>"}` in an HTTP 200 answer.
//! Messages with `{…}` take an argument: use the functions below.

/// A code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The code.
    pub code: &'static str,
    /// The message (arguments filled in).
    pub message: String,
}

impl Rule {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `"<CODE> <message>"`, upstream's `status_message`.
    pub fn status_message(&self) -> String {
        format!("{} {}", self.code, self.message)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

/// Java's `List.toString()`: `[a, b]`.
fn list(ids: &[String]) -> String {
    format!("[{}]", ids.join(", "))
}

// Header (HTTP 400).
/// `receiver_id` equals `sender_id` (create/update).
pub const RECEIVER_ID_SENDER_ID_ERROR: (&str, &str) = (
    "RECEIVER_ID_SENDER_ID_ERROR",
    "ReceiverId should not be same as SenderId",
);
/// `receiver_id` without `@`.
pub const RECEIVER_ID_ERROR: (&str, &str) =
    ("RECEIVER_ID_ERROR", "ReceiverId is wrong, it should have @");
/// `sender_id` without `@`.
pub const SENDER_ID_ERROR: (&str, &str) =
    ("SENDER_ID_ERROR", "SenderId is wrong, it should have @");
/// Header action differs from the URL's.
pub const ACTION_ERROR: (&str, &str) = (
    "ACTION_ERROR",
    "Action in request header should be same as url",
);
/// Header message type differs from the URL's.
pub const MESSAGE_TYPE_ERROR: (&str, &str) = (
    "MESSAGE_TYPE_ERROR",
    "MessageType in request header should be same as url",
);

/// A reply whose `receiver_id` is not the MDMS host of this installation's client.
pub fn receiver_id_client_host_url() -> Rule {
    Rule::new(
        "RECEIVER_ID_CLIENT_HOST_URL_ERROR",
        "ReceiverId should be same as client host url",
    )
}
/// `start_date` 0.
pub fn start_date() -> Rule {
    Rule::new("START_DATE_ERROR", "StartDate should not be empty")
}
/// `end_date` before `start_date`.
pub fn dates() -> Rule {
    Rule::new("DATES_ERROR", "StartDate should be less than endDate")
}
/// Unknown parent program.
pub fn program_parent_id_not_found(id: &str) -> Rule {
    Rule::new(
        "PROGRAM_PARENT_ID_NOT_FOUND",
        format!("Program not found for ParentId: {id}"),
    )
}
/// Create with an existing id.
pub fn program_found_for_create(id: &str) -> Rule {
    Rule::new(
        "PROGRAM_FOUND_FOR_CREATE",
        format!("Program already present for id: {id}"),
    )
}
/// Update without id.
pub fn program_id() -> Rule {
    Rule::new(
        "PROGRAM_ID_ERROR",
        "programId should not be empty for update",
    )
}
/// Unknown program id.
pub fn program_not_found(id: &str) -> Rule {
    Rule::new(
        "PROGRAM_NOT_FOUND",
        format!("Program not found for id: {id}"),
    )
}
/// Missing program code (program update, on-program).
pub fn program_code() -> Rule {
    Rule::new("PROGRAM_CODE_ERROR", "programCode should not be empty")
}
/// Sanction children with different program codes.
pub fn same_program_code() -> Rule {
    Rule::new(
        "SAME_PROGRAM_CODE",
        "Program code should be same for all Sanction",
    )
}
/// Sanction children with different location codes.
pub fn same_location_code() -> Rule {
    Rule::new(
        "SAME_LOCATION_CODE",
        "Location code should be same for all Sanction",
    )
}
/// No (active) program with this code at the location.
pub fn no_programs_found(code: &str) -> Rule {
    Rule::new(
        "NO_PROGRAMS_FOUND",
        format!("No program found for code: {code}"),
    )
}
/// Sanction create with existing ids.
pub fn duplicate_sanction_id(ids: &[String]) -> Rule {
    Rule::new(
        "DUPLICATE_SANCTION_ID",
        format!("Duplicate sanction id(s): {}", list(ids)),
    )
}
/// Sanction update without id.
pub fn sanction_id_null() -> Rule {
    Rule::new("SANCTION_ID_NULL", "Sanction id cannot be null or empty")
}
/// Sanction update of unknown ids.
pub fn no_sanctions_found(ids: &[String]) -> Rule {
    Rule::new(
        "NO_SANCTIONS_FOUND",
        format!("No sanction found for id(s): {}", list(ids)),
    )
}
/// Allocation children with different program codes (same code string as programs').
pub fn allocation_program_code() -> Rule {
    Rule::new(
        "PROGRAM_CODE_ERROR",
        "Program code should be same for all allocations",
    )
}
/// Allocation children with different location codes.
pub fn allocation_location_code() -> Rule {
    Rule::new(
        "LOCATION_CODE_ERROR",
        "Location code should be same for all allocations",
    )
}
/// Allocation against unknown sanctions.
pub fn sanctions_not_found(ids: &[String]) -> Rule {
    Rule::new(
        "SANCTIONS_NOT_FOUND",
        format!("No sanction found for id(s): {}", list(ids)),
    )
}
/// Allocation program code differs from its sanction's.
pub fn program_code_error_sanction() -> Rule {
    Rule::new(
        "PROGRAM_CODE_ERROR_SANCTION",
        "Program code should be same as sanction program code",
    )
}
/// Allocation beyond the sanctioned amount.
pub fn sanctioned_amount_error_allocation() -> Rule {
    Rule::new(
        "SANCTIONED_AMOUNT_ERROR_ALLOCATION",
        "Sanctioned amount should be greater than allocated amount",
    )
}
/// Deduction beyond the available amount.
pub fn available_amount_error_deduction() -> Rule {
    Rule::new(
        "AVAILABLE_AMOUNT_ERROR_DEDUCTION",
        "Available amount should be greater than deduction amount",
    )
}
/// Allocation create with existing ids.
pub fn duplicate_allocation_id(ids: &[String]) -> Rule {
    Rule::new(
        "DUPLICATE_ALLOCATION_ID",
        format!("Duplicate allocation id(s): {}", list(ids)),
    )
}
/// Allocation update without id.
pub fn invalid_allocation_id() -> Rule {
    Rule::new("INVALID_ALLOCATION_ID", "Allocation id cannot be empty")
}
/// Allocation update of unknown ids.
pub fn allocations_not_found(ids: &[String]) -> Rule {
    Rule::new(
        "ALLOCATIONS_NOT_FOUND",
        format!("No allocation found for id(s): {}", list(ids)),
    )
}
/// Disbursement without children (or a child without id on update).
pub fn child_disbursement() -> Rule {
    Rule::new(
        "CHILD_DISBURSEMENT_ERROR",
        "Child disbursements should not be null or empty",
    )
}
/// Child without individual.
pub fn individual() -> Rule {
    Rule::new("INDIVIDUAL_ERROR", "Individual should not be null")
}
/// Child without account code.
pub fn account_code() -> Rule {
    Rule::new(
        "ACCOUNT_CODE_ERROR",
        "Account code should not be null or empty",
    )
}
/// Child with children.
pub fn multiple_child_disbursement() -> Rule {
    Rule::new(
        "MULTIPLE_CHILD_DISBURSEMENT_ERROR",
        "Currently child disbursement should not have child disbursements",
    )
}
/// Child location code differs from the parent's.
pub fn disbursement_location_code() -> Rule {
    Rule::new(
        "DISBURSEMENT_LOCATION_CODE_ERROR",
        "Disbursement location code should be same as child disbursement location code",
    )
}
/// Child program code differs from the parent's.
pub fn disbursement_program_code() -> Rule {
    Rule::new(
        "DISBURSEMENT_PROGRAM_CODE_ERROR",
        "Disbursement program code should be same as child disbursement program code",
    )
}
/// Parent net ≠ Σ children net.
pub fn disbursement_net_amount() -> Rule {
    Rule::new(
        "DISBURSEMENT_NET_AMOUNT_ERROR",
        "Disbursement amount should be equal to child disbursement net amount",
    )
}
/// Parent gross ≠ Σ children gross.
pub fn disbursement_gross_amount() -> Rule {
    Rule::new(
        "DISBURSEMENT_GROSS_AMOUNT_ERROR",
        "Disbursement amount should be equal to child disbursement gross amount",
    )
}
/// Child sanction differs from the parent's.
pub fn disbursement_sanction_id() -> Rule {
    Rule::new(
        "DISBURSEMENT_SANCTION_ID_ERROR",
        "Disbursement sanction id should be same as child disbursement sanction id",
    )
}
/// Named sanction unknown.
pub fn no_sanction_found(id: &str) -> Rule {
    Rule::new(
        "NO_SANCTION_FOUND",
        format!("No sanction found for id: {id}"),
    )
}
/// Named sanction's balance too small.
pub fn sanction_available_amount() -> Rule {
    Rule::new(
        "SANCTION_AVAILABLE_AMOUNT_ERROR",
        "Sanction available amount should be greater than disbursement amount",
    )
}
/// No sanction of the program has enough balance.
pub fn no_sanction_available_for_amount(gross: &str) -> Rule {
    Rule::new(
        "NO_SANCTION_AVAILABLE_FOR_AMOUNT",
        format!("No sanction available for disburse amount {gross}"),
    )
}
/// Update / reply without id.
pub fn disbursement_id_null() -> Rule {
    Rule::new(
        "DISBURSEMENT_ID_NULL_ERROR",
        "Disbursement id should not be null or empty",
    )
}
/// Create with an existing id.
pub fn disbursement_id() -> Rule {
    Rule::new("DISBURSEMENT_ID_ERROR", "Disbursement id should be unique")
}
/// Update / reply of an unknown disbursement.
pub fn no_disbursement_found(id: &str) -> Rule {
    Rule::new(
        "NO_DISBURSEMENT_FOUND",
        format!("No disbursement found for id: {id}"),
    )
}
/// Update / reply naming a child that is not the parent's.
pub fn child_disbursement_id() -> Rule {
    Rule::new(
        "CHILD_DISBURSEMENT_ID_ERROR",
        "Child disbursement id should be present in db",
    )
}
/// A disbursement for the target is in flight.
pub fn disbursement_already_present(target_id: &str) -> Rule {
    Rule::new(
        "DISBURSEMENT_ALREADY_PRESENT_ERROR",
        format!("Disbursement already present for target id: {target_id}"),
    )
}
/// on-disburse create (INITIATED/FAILED) without transaction ids.
pub fn transaction_id_mandatory() -> Rule {
    Rule::new("TRANSACTION_ID_MANDATORY", "Transaction id is mandatory")
}
/// idgen returned nothing.
pub fn idgen() -> Rule {
    Rule::new("IDGEN_ERROR", "No ids returned from IdGen Service")
}
