//! `/sor-rates/sor/v1/…` and `/sor-rates/sor/rate/v1/…` — the SOR/Rates v1 contract. Writes
//! answer **202** as the contract says (upstream DIGIT services answer 200); searches 200.

use crate::domain::model::{
    AnalysisRequest, AnalysisResponse, CompositionRequest, CompositionResponse,
    CompositionSearchRequest, RateRequest, RateResponse, RateSearchRequest, SorRequest,
    SorResponse, SorSearchRequest,
};
use crate::service::SorService;
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use digit_core::response::ResponseStatus;
use digit_core::{RequestInfo, ResponseInfo};
use digit_service::openapi::{body_example, document, post_with, Documented};
use digit_service::{Accepted, ApiError, ApiRouter, DigitJson};

/// A request body example: `docs/openapi/examples/sor-rates/<name>.json`.
macro_rules! example {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi/examples/sor-rates/",
            $name,
            ".json"
        ))
    };
}

/// The routes under `context` (e.g. `/sor-rates`) and their OpenAPI document.
pub fn router(context: &str, service: SorService) -> Documented {
    let p = |s: &str| format!("{context}{s}");
    let routes = ApiRouter::new()
        .api_route(
            &p("/sor/v1/_create"),
            post_with(create_sors, |o| {
                body_example(
                    o.tag("SOR").summary("Create SORs (202)"),
                    example!("sor-create"),
                )
            }),
        )
        .api_route(
            &p("/sor/v1/_update"),
            post_with(update_sors, |o| {
                body_example(
                    o.tag("SOR").summary("Update SORs (202)"),
                    example!("sor-update"),
                )
            }),
        )
        .api_route(
            &p("/sor/v1/_search"),
            post_with(search_sors, |o| {
                body_example(o.tag("SOR").summary("Search SORs"), example!("sor-search"))
            }),
        )
        .api_route(
            &p("/sor/rate/v1/_create"),
            post_with(create_rates, |o| {
                body_example(
                    o.tag("Rates").summary("Create rates of SORs (202)"),
                    example!("rate-create"),
                )
            }),
        )
        .api_route(
            &p("/sor/rate/v1/_update"),
            post_with(update_rates, |o| {
                body_example(
                    o.tag("Rates").summary("Close or revise rates (202)"),
                    example!("rate-update"),
                )
            }),
        )
        .api_route(
            &p("/sor/rate/v1/_search"),
            post_with(search_rates, |o| {
                body_example(
                    o.tag("Rates").summary("Search rates"),
                    example!("rate-search"),
                )
            }),
        )
        .api_route(
            &p("/sor/composition/v1/_create"),
            post_with(create_compositions, |o| {
                body_example(
                    o.tag("Compositions").summary("Create compositions (202)"),
                    example!("composition-create"),
                )
            }),
        )
        .api_route(
            &p("/sor/composition/v1/_search"),
            post_with(search_compositions, |o| {
                body_example(
                    o.tag("Compositions").summary("Search compositions"),
                    example!("composition-search"),
                )
            }),
        )
        .api_route(
            &p("/sor/rate-analysis/v1/_calculate"),
            post_with(calculate, |o| {
                body_example(
                    o.tag("Rate analysis")
                        .summary("Calculate the rate analysis of SORs"),
                    example!("rate-analysis-calculate"),
                )
            }),
        )
        .api_route(
            &p("/sor/rate-analysis/v1/_create"),
            post_with(create_analysed, |o| {
                body_example(
                    o.tag("Rate analysis")
                        .summary("Create rates from the rate analysis (202)"),
                    example!("rate-analysis-create"),
                )
            }),
        )
        .with_state(service);
    document(
        "SOR & rates",
        "Works schedule of rates: SORs, their dated rates, compositions and rate analysis.",
        &[context],
        routes,
    )
}

fn ok(ri: &RequestInfo) -> Option<ResponseInfo> {
    Some(ResponseInfo::from_request(
        Some(ri),
        ResponseStatus::Successful,
    ))
}

async fn create_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorRequest>,
) -> Result<Accepted<Json<SorResponse>>, ApiError> {
    let sors = s
        .create_sors(&req.request_info, uri.path(), req.sors)
        .await?;
    Ok(Accepted(Json(SorResponse {
        response_info: ok(&req.request_info),
        sors,
        pagination: None,
    })))
}

async fn update_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorRequest>,
) -> Result<Accepted<Json<SorResponse>>, ApiError> {
    let sors = s
        .update_sors(&req.request_info, uri.path(), req.sors)
        .await?;
    Ok(Accepted(Json(SorResponse {
        response_info: ok(&req.request_info),
        sors,
        pagination: None,
    })))
}

async fn search_sors(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<SorSearchRequest>,
) -> Result<Json<SorResponse>, ApiError> {
    let (sors, pagination) = s
        .search_sors(
            &req.request_info,
            uri.path(),
            &req.criteria,
            &req.pagination,
        )
        .await?;
    Ok(Json(SorResponse {
        response_info: ok(&req.request_info),
        sors,
        pagination: Some(pagination),
    }))
}

async fn create_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateRequest>,
) -> Result<Accepted<Json<RateResponse>>, ApiError> {
    let rates = s
        .create_rates(&req.request_info, uri.path(), req.rate_details, false)
        .await?;
    Ok(Accepted(Json(RateResponse {
        response_info: ok(&req.request_info),
        rate_details: rates,
        pagination: None,
    })))
}

async fn update_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateRequest>,
) -> Result<Accepted<Json<RateResponse>>, ApiError> {
    let rates = s
        .update_rates(&req.request_info, uri.path(), req.rate_details)
        .await?;
    Ok(Accepted(Json(RateResponse {
        response_info: ok(&req.request_info),
        rate_details: rates,
        pagination: None,
    })))
}

async fn search_rates(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<RateSearchRequest>,
) -> Result<Json<RateResponse>, ApiError> {
    let (rates, pagination) = s
        .search_rates(
            &req.request_info,
            uri.path(),
            &req.criteria,
            &req.pagination,
        )
        .await?;
    Ok(Json(RateResponse {
        response_info: ok(&req.request_info),
        rate_details: rates,
        pagination: Some(pagination),
    }))
}

async fn create_compositions(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<CompositionRequest>,
) -> Result<Accepted<Json<CompositionResponse>>, ApiError> {
    let compositions = s
        .create_compositions(&req.request_info, uri.path(), req.compositions)
        .await?;
    Ok(Accepted(Json(CompositionResponse {
        response_info: ok(&req.request_info),
        compositions,
    })))
}

async fn search_compositions(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<CompositionSearchRequest>,
) -> Result<Json<CompositionResponse>, ApiError> {
    let compositions = s
        .search_compositions(&req.request_info, uri.path(), &req.criteria)
        .await?;
    Ok(Json(CompositionResponse {
        response_info: ok(&req.request_info),
        compositions,
    }))
}

async fn calculate(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<AnalysisRequest>,
) -> Result<Json<AnalysisResponse>, ApiError> {
    let analyses = s
        .analyse(&req.request_info, uri.path(), &req.sor_details)
        .await?;
    Ok(Json(AnalysisResponse {
        response_info: ok(&req.request_info),
        rate_analysis: analyses,
    }))
}

async fn create_analysed(
    State(s): State<SorService>,
    uri: Uri,
    DigitJson(req): DigitJson<AnalysisRequest>,
) -> Result<Accepted<Json<RateResponse>>, ApiError> {
    let rates = s
        .create_analysed_rates(&req.request_info, uri.path(), &req.sor_details)
        .await?;
    Ok(Accepted(Json(RateResponse {
        response_info: ok(&req.request_info),
        rate_details: rates,
        pagination: None,
    })))
}
